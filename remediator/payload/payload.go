// Package payload decodes and checks Alertmanager's webhook body (version 4)
// into the types of Alertmanager's own notify/webhook package.
//
// Unknown fields are accepted, at the top level and in alerts: Alertmanager
// adds fields over time (notification_reason in v0.32, routeLabels in v0.34)
// and a receiver that rejects a newer sender's payload would stop remediation
// the day Alertmanager is upgraded; a 4xx is not retried, so the alerts would
// be lost. What we rely on is checked strictly instead: the body is one JSON
// object within the size limit with nothing after it, every known field has
// its type, version is "4", and every alert has a status, a fingerprint, a
// startsAt and labels.
package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
)

// Error is bad input; its message says what is wrong and is safe to return
// to the sender.
type Error struct {
	// TooLarge is set when the body exceeded the limit (413).
	TooLarge bool
	msg      string
}

func (e *Error) Error() string { return e.msg }

func bad(format string, a ...any) error { return &Error{msg: fmt.Sprintf(format, a...)} }

// Limits on what one alert may carry; Alertmanager itself sends far less.
const (
	MaxAlerts         = 10000
	MaxFingerprintLen = 128
	MaxLabels         = 256
)

// Decode reads one webhook body of at most limit bytes. Errors of type
// *Error are the sender's fault; any other error is a read failure.
func Decode(r io.Reader, limit int64) (*webhook.Message, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, &Error{TooLarge: true, msg: fmt.Sprintf("body larger than %d bytes", limit)}
	}
	return Parse(body)
}

// Parse decodes and checks a whole body.
func Parse(body []byte) (*webhook.Message, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var m webhook.Message
	if err := dec.Decode(&m); err != nil {
		return nil, bad("invalid JSON: %s", describe(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad("invalid JSON: data after the top-level object")
	}
	if err := Check(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

// describe turns encoding/json errors into a short reason naming the field.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q: %s is not a %s", te.Field, te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return err.Error()
}

// Check validates a decoded message.
func Check(m *webhook.Message) error {
	if m.Version != "4" {
		return bad("version: %q is not supported (want \"4\")", m.Version)
	}
	if m.Data == nil {
		return bad("status: missing")
	}
	if m.Status != "firing" && m.Status != "resolved" {
		return bad("status: %q is neither firing nor resolved", m.Status)
	}
	if len(m.Alerts) == 0 {
		return bad("alerts: empty")
	}
	if len(m.Alerts) > MaxAlerts {
		return bad("alerts: %d alerts, at most %d", len(m.Alerts), MaxAlerts)
	}
	for i := range m.Alerts {
		if err := checkAlert(&m.Alerts[i]); err != nil {
			return bad("alerts[%d]: %s", i, err.Error())
		}
	}
	return nil
}

func checkAlert(a *template.Alert) error {
	switch {
	case a.Status != "firing" && a.Status != "resolved":
		return fmt.Errorf("status: %q is neither firing nor resolved", a.Status)
	case a.Fingerprint == "" || len(a.Fingerprint) > MaxFingerprintLen || !printable(a.Fingerprint):
		return fmt.Errorf("fingerprint: %q is not a fingerprint", truncate(a.Fingerprint))
	case a.StartsAt.IsZero():
		return errors.New("startsAt: missing")
	case len(a.Labels) == 0:
		return errors.New("labels: empty")
	case len(a.Labels) > MaxLabels:
		return fmt.Errorf("labels: %d labels, at most %d", len(a.Labels), MaxLabels)
	}
	return nil
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
