package configpath

import "fmt"

// Positive refuses a count, size or duration written as zero or less. Such
// keys get their default when left out; a 0 in the file would otherwise turn
// a safety limit or a probe off without anyone meaning to.
func Positive[T ~int | ~int64](key string, v T) error {
	if v > 0 {
		return nil
	}
	return fmt.Errorf("%s: %v must be positive; leave the key out for the default", key, v)
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
