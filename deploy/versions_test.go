package deploy

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The pinned Prometheus and Alertmanager have one source: the go.mod files
// the Makefile builds them from (deploy/tools, deploy/tools/alertmanager).
// The compose file's image tags and the README must name the same releases.
func TestToolVersionsAgree(t *testing.T) {
	prom := release(t, moduleVersion(t, "tools/go.mod", "github.com/prometheus/prometheus"), true)
	am := release(t, moduleVersion(t, "tools/alertmanager/go.mod", "github.com/prometheus/alertmanager"), false)

	p := loadProject(t)
	for service, want := range map[string]string{"prometheus": "prom/prometheus:v" + prom, "alertmanager": "prom/alertmanager:v" + am} {
		if got := p.Services[service].Image; got != want {
			t.Errorf("docker-compose.yml: %s runs %s, but make tools builds %s", service, got, want)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Prometheus " + prom + " and Alertmanager " + am; !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not say %q", want)
	}
}

// moduleVersion reads a required module's version from a go.mod file.
func moduleVersion(t *testing.T, gomod, module string) string {
	t.Helper()
	f, err := os.Open(gomod)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(s.Text()), "require "))
		if len(fields) >= 2 && fields[0] == module {
			return fields[1]
		}
	}
	t.Fatalf("%s: no %s", gomod, module)
	return ""
}

// release turns a module version into the release it is: Alertmanager's
// are the same (v0.31.1 is 0.31.1), Prometheus 3.x.y is module v0.3xx.y
// (v0.316.0 is 3.16.0).
func release(t *testing.T, v string, prometheus bool) string {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) != 3 || parts[0] != "0" {
		t.Fatalf("module version %s is not v0.x.y", v)
	}
	if !prometheus {
		return strings.Join(parts, ".")
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 100 {
		t.Fatalf("Prometheus module version %s is not v0.Mmm.p", v)
	}
	return strconv.Itoa(n/100) + "." + strconv.Itoa(n%100) + "." + parts[2]
}
