package openclaw

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// Resolver looks up a host name; net.DefaultResolver is one.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// IsThisHost reports whether a gateway URL's host is this machine: a
// loopback or unspecified address, localhost, one of this host's interface
// addresses, or a name every address of which is one of those. Only such a
// gateway's process, locks, logs and disks can be read here; a listener on
// the same port is otherwise someone else's process. A name that cannot be
// resolved is an error, not a guess.
func IsThisHost(ctx context.Context, host string, r Resolver) (bool, error) {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true, nil // RFC 6761: always loopback
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := r.LookupIPAddr(ctx, host)
		if err != nil {
			return false, fmt.Errorf("resolve %s: %w", host, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return false, fmt.Errorf("resolve %s: no addresses", host)
	}
	var own []net.IP
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsUnspecified() {
			continue
		}
		if own == nil {
			addrs, err := net.InterfaceAddrs()
			if err != nil {
				return false, fmt.Errorf("this host's addresses: %w", err)
			}
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					own = append(own, n.IP)
				}
			}
		}
		if !containsIP(own, ip) {
			return false, nil
		}
	}
	return true, nil
}

func containsIP(ips []net.IP, ip net.IP) bool {
	for _, o := range ips {
		if o.Equal(ip) {
			return true
		}
	}
	return false
}
