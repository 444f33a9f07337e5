package configpath

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxSecret bounds what is read of a secret file: a token is a line, not a
// document, and a path pointing at a large file is a mistake.
const maxSecret = 4 << 10

// ReadSecret reads a token from the file at path: its content with
// surrounding white space trimmed. An empty file, one over 4 KiB or a token
// that spans lines is an error, so that a wrong path is caught when the
// configuration is loaded rather than as an authentication failure later.
func ReadSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecret+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxSecret {
		return "", fmt.Errorf("%s: larger than %d bytes, not a token", path, maxSecret)
	}
	s := strings.TrimSpace(string(data))
	switch {
	case s == "":
		return "", fmt.Errorf("%s: %w", path, errEmpty)
	case strings.ContainsAny(s, "\r\n"):
		return "", fmt.Errorf("%s: more than one line, not a token", path)
	}
	return s, nil
}

var errEmpty = errors.New("empty")
