package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{[]string{"gzip"}, true},
		{[]string{"deflate, GZIP;q=0.5"}, true},
		{[]string{"identity", "gzip"}, true},
		{[]string{"*"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"identity"}, false},
		{[]string{"zstd, br"}, false},
		{nil, false},
	} {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestFastGzip: a scraper that accepts gzip gets the promhttp answer
// gzip-compressed, one that does not gets it plain, and both decode to the
// same metrics.
func TestFastGzip(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	srv := httptest.NewServer(fastGzip(promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true})))
	defer srv.Close()
	get := func(encoding string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", encoding) // set: the transport does not decompress
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	resp, body := get("gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	resp, plain := get("identity")
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("identity asked, got Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	for name, b := range map[string][]byte{"gzip": unzipped, "identity": plain} {
		if !strings.Contains(string(b), "\n# TYPE go_goroutines gauge\n") {
			t.Errorf("%s answer has no go_goroutines family:\n%.300s", name, b)
		}
	}
}
