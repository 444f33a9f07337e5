package openclaw

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
)

// releaseRe is a calendar version as OpenClaw numbers releases: year,
// month, patch, and an optional pre-release suffix.
var releaseRe = regexp.MustCompile(`^v?(\d{4})\.(\d{1,2})\.(\d{1,3})(-[0-9A-Za-z.]+)?$`)

// CompareReleases orders two calendar versions: -1, 0 or +1. A
// pre-release sorts before its release (2026.9.3-beta.1 < 2026.9.3), and
// pre-releases of one release by their suffix.
func CompareReleases(a, b string) (int, error) {
	pa, err := parseRelease(a)
	if err != nil {
		return 0, err
	}
	pb, err := parseRelease(b)
	if err != nil {
		return 0, err
	}
	for i := range 3 {
		if c := cmp.Compare(pa.n[i], pb.n[i]); c != 0 {
			return c, nil
		}
	}
	switch {
	case pa.pre == pb.pre:
		return 0, nil
	case pa.pre == "":
		return 1, nil
	case pb.pre == "":
		return -1, nil
	}
	return cmp.Compare(pa.pre, pb.pre), nil
}

type release struct {
	n   [3]int
	pre string
}

func parseRelease(v string) (release, error) {
	m := releaseRe.FindStringSubmatch(v)
	if m == nil {
		return release{}, fmt.Errorf("%q is not a calendar version (2026.9.6)", v)
	}
	var r release
	for i := range 3 {
		r.n[i], _ = strconv.Atoi(m[i+1])
	}
	r.pre = m[4]
	return r, nil
}
