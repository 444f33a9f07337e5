package openclaw_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// names is a resolver of fixed names.
type names map[string][]string

func (n names) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := n[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func TestIsThisHost(t *testing.T) {
	own := ""
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
			own = n.IP.String()
		}
	}
	r := names{
		"gw-local.test":   {"127.0.0.1", "::1"},
		"gw-7.fleet.test": {"192.0.2.7"},
		"gw-mixed.test":   {"127.0.0.1", "192.0.2.8"},
	}
	cases := map[string]bool{
		"127.0.0.1": true, "127.3.4.5": true, "::1": true, "[::1]": true, "0.0.0.0": true,
		"localhost": true, "LOCALHOST.": true, "gw.localhost": true,
		"gw-local.test": true,
		"192.0.2.7":     false, "2001:db8::7": false,
		"gw-7.fleet.test": false,
		"gw-mixed.test":   false, // one remote address: not provably here
	}
	if own != "" {
		cases[own] = true
		r["gw-own.test"] = []string{own}
		cases["gw-own.test"] = true
	}
	for host, want := range cases {
		got, err := openclaw.IsThisHost(context.Background(), host, r)
		if err != nil || got != want {
			t.Errorf("IsThisHost(%q) = %v, %v; want %v", host, got, err, want)
		}
	}
	_, err = openclaw.IsThisHost(context.Background(), "unknown.test", r)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) {
		t.Errorf("unresolvable name: err %v, want the resolver's", err)
	}
}
