// Package deploy holds the configuration of the compose stack. Docker cannot
// run here, so these tests load docker-compose.yml with compose-go the way
// `docker compose` does and check the Prometheus and Alertmanager configs
// with the real promtool and amtool, with every path the containers see
// mapped back to the file compose would mount.
package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/clawwatch/clawwatch/internal/testbin"
)

// ownImage is the image docker-compose.yml builds from the Dockerfile.
const ownImage = "clawwatch:local"

func loadProject(t *testing.T) *types.Project {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeProject(t *testing.T) {
	p := loadProject(t)
	want := []string{"alertmanager", "exporter", "gateway", "grafana", "pod", "prometheus", "remediator"}
	if got := slices.Sorted(func(yield func(string) bool) {
		for name := range p.Services {
			if !yield(name) {
				return
			}
		}
	}); !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}

	for name, s := range p.Services {
		// Third-party images are pinned; ours is built from this checkout
		// by the pod service and reused by the others.
		switch {
		case s.Image == ownImage:
			if p.Services["pod"].Build == nil {
				t.Errorf("%s: uses %s, which no service builds", name, ownImage)
			}
		case s.Image == "" || strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":"):
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %s published on %q, want loopback only", name, port.Published, port.HostIP)
			}
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind || v.Source == "/var/run/docker.sock" {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: mounts %s, which does not exist: %v", name, v.Source, err)
			}
		}
	}

	// The exporter and the gateway share the pod's namespaces, so that
	// discovery by port and /proc work and survive a gateway restart.
	for _, name := range []string{"gateway", "exporter"} {
		s := p.Services[name]
		if s.NetworkMode != "service:pod" || s.Pid != "service:pod" {
			t.Errorf("%s: network_mode %q pid %q, want both service:pod", name, s.NetworkMode, s.Pid)
		}
	}
	if p.Services["gateway"].ContainerName == "" {
		t.Error("gateway: needs a container_name for the remediator's docker driver")
	}
	if !mounts(p.Services["remediator"], "/var/run/docker.sock") {
		t.Error("remediator: the docker driver needs /var/run/docker.sock")
	}
	for _, f := range []string{"mixin/alerts.yaml", "mixin/rules.yaml"} {
		if !mountsSource(p, p.Services["prometheus"], f) {
			t.Errorf("prometheus: does not load the generated %s", f)
		}
	}
	if !mountsSource(p, p.Services["grafana"], "dashboards") {
		t.Error("grafana: does not mount the generated dashboards")
	}
}

func mounts(s types.ServiceConfig, target string) bool {
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == target })
}

func mountsSource(p *types.Project, s types.ServiceConfig, rel string) bool {
	src := filepath.Join(p.WorkingDir, rel)
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Source == src })
}

// hostView rewrites a config file of a service so that every container path
// it names is the file compose mounts there, and returns the rewritten copy.
func hostView(t *testing.T, s types.ServiceConfig, containerPath string) string {
	t.Helper()
	var src string
	var pairs []string
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if v.Target == containerPath {
			src = v.Source
		}
		pairs = append(pairs, v.Target, v.Source)
	}
	if src == "" {
		t.Fatalf("%s: nothing mounted at %s", s.Name, containerPath)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(out, []byte(strings.NewReplacer(pairs...).Replace(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrometheusConfig(t *testing.T) {
	p := loadProject(t)
	promtool := testbin.Tool(t, "promtool")
	cfg := hostView(t, p.Services["prometheus"], "/etc/prometheus/prometheus.yml")
	out, err := exec.Command(promtool, "check", "config", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	// The rule files are found (through the mounts) and checked too.
	if !strings.Contains(string(out), "alerts.yaml") || !strings.Contains(string(out), "rules.yaml") {
		t.Errorf("promtool did not check the mixin's rule files:\n%s", out)
	}
}

func TestAlertmanagerConfig(t *testing.T) {
	p := loadProject(t)
	amtool := testbin.Tool(t, "amtool")
	cfg := hostView(t, p.Services["alertmanager"], "/etc/alertmanager/alertmanager.yml")
	out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	// Alerts that name an action reach the remediator; the others do not.
	for labels, want := range map[string]string{
		"alertname=OpenClawGatewayHung remediation=restart gateway=default": "remediator",
		"alertname=OpenClawStaleLock remediation=cleanup_locks":             "remediator",
		"alertname=OpenClawRestartLoop remediation=none":                    "null",
	} {
		args := append([]string{"config", "routes", "test", "--config.file=" + cfg}, strings.Fields(labels)...)
		got, err := exec.Command(amtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("amtool %v: %v\n%s", args, err, got)
		}
		if strings.TrimSpace(string(got)) != want {
			t.Errorf("%s routed to %q, want %q", labels, strings.TrimSpace(string(got)), want)
		}
	}
}
