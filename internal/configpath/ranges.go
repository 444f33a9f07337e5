package configpath

import (
	"fmt"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
)

// Range is the inclusive range a count, size or duration key accepts. Every
// such key has one, so that a value no one could mean (a billion workers, a
// probe every eleven years) is refused when the file is loaded rather than
// found out as a hang or an exhausted disk. docs/configuration.md lists them
// all; a test in each configuration package holds the two together.
type Range[T ~int | ~int64] struct {
	// Key is the key's path as the documentation lists it, with [] for the
	// elements of a list: "targets[].verify.timeout".
	Key      string
	Min, Max T
	format   func(T) string
}

// Bounds is what the documentation test reads of a range of any kind.
type Bounds interface {
	Path() string
	Bounds() string
}

// Count is the range of a plain number.
func Count[T ~int | ~int64](key string, lo, hi T) Range[T] {
	return Range[T]{Key: key, Min: lo, Max: hi, format: func(v T) string { return fmt.Sprint(int64(v)) }}
}

// Size is the range of a size in bytes, written with base-2 units (1KiB).
func Size[T ~int64](key string, lo, hi T) Range[T] {
	return Range[T]{Key: key, Min: lo, Max: hi, format: func(v T) string { return units.Base2Bytes(v).String() }}
}

// Duration is the range of a duration, written as Prometheus does (5m, 1d).
func Duration(key string, lo, hi time.Duration) Range[model.Duration] {
	return Range[model.Duration]{Key: key, Min: model.Duration(lo), Max: model.Duration(hi),
		format: func(v model.Duration) string {
			if v < 0 {
				return "-" + (-v).String()
			}
			return v.String()
		}}
}

// In is the range of the same key inside a list element or block, scope
// "targets[]" for a key shared by the remediator's targets and the
// exporter's gateways.
func (r Range[T]) In(scope string) Range[T] {
	r.Key = scope + "." + r.Key
	return r
}

// Path is the key as the documentation lists it.
func (r Range[T]) Path() string { return r.Key }

// Bounds is the range as errors and the documentation write it: "[1, 256]".
func (r Range[T]) Bounds() string { return "[" + r.format(r.Min) + ", " + r.format(r.Max) + "]" }

// Check refuses v outside the range, naming the key and the range. The key
// is named from its list element on: an element's errors already start with
// it ("targets[0] (default): verify.timeout: …").
func (r Range[T]) Check(v T) error {
	if v >= r.Min && v <= r.Max {
		return nil
	}
	key := r.Key
	if i := strings.LastIndex(key, "[]."); i >= 0 {
		key = key[i+3:]
	}
	msg := fmt.Sprintf("%s: %s is out of range %s", key, r.format(v), r.Bounds())
	if v == 0 {
		// Such keys get their default when left out; a 0 in the file would
		// otherwise turn a safety limit or a probe off unnoticed.
		msg += "; leave the key out for the default"
	}
	return fmt.Errorf("%s", msg)
}

// First is the first non-nil error of a list of checks, so that a list
// reads as one statement and the file's first problem is the one named.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
