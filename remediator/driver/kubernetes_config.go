package driver

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/clawwatch/clawwatch/internal/configpath"
)

// KubernetesSpec is the kubernetes kind's section: the workload (one of
// deployment and statefulset) in namespace, through kubeconfig, or the
// cluster's own service account when it is empty; this remediator's name
// in the claims that let several share a workload (the host name, which
// is the pod's, by default), and how long a claim outlives its holder's
// last renewal.
type KubernetesSpec struct {
	Shared      `yaml:",inline"`
	Namespace   string         `yaml:"namespace,omitempty"`
	Deployment  string         `yaml:"deployment,omitempty"`
	StatefulSet string         `yaml:"statefulset,omitempty"`
	Kubeconfig  string         `yaml:"kubeconfig,omitempty"`
	Identity    string         `yaml:"identity,omitempty"`
	ClaimTTL    model.Duration `yaml:"claim_ttl,omitempty"`
}

var claimTTLRange = configpath.Duration("targets[].driver.claim_ttl", time.Second, time.Hour)

// Workload is the kind and name of the object the driver acts on.
func (s *KubernetesSpec) Workload() (kind, name string) {
	if s.StatefulSet != "" {
		return KindStatefulSet, s.StatefulSet
	}
	return KindDeployment, s.Deployment
}

// Validate checks the names the API paths are built from.
func (s *KubernetesSpec) Validate(dir, home string) error {
	if errs := validation.IsDNS1123Label(s.Namespace); len(errs) > 0 {
		return fmt.Errorf("namespace: %q: %s", s.Namespace, strings.Join(errs, "; "))
	}
	if (s.Deployment == "") == (s.StatefulSet == "") {
		return errors.New("deployment, statefulset: exactly one is required for kind kubernetes")
	}
	field, name := "deployment", s.Deployment
	if s.StatefulSet != "" {
		field, name = "statefulset", s.StatefulSet
	}
	if errs := validation.IsDNS1123Subdomain(LeaseName(name)); len(errs) > 0 {
		return fmt.Errorf("%s: %q: %s", field, name, strings.Join(errs, "; "))
	}
	if s.Kubeconfig != "" {
		s.Kubeconfig = configpath.Resolve(s.Kubeconfig, dir, home)
	}
	if s.Identity == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("identity: not set, and no host name: %w", err)
		}
		s.Identity = host
	}
	return nil
}

func (s *KubernetesSpec) checkRanges() error {
	if s.ClaimTTL == 0 { // the driver's default
		return nil
	}
	return claimTTLRange.Check(s.ClaimTTL)
}

// New connects to the API server.
func (s *KubernetesSpec) New(Target) (Driver, error) {
	client, err := KubernetesClient(s.Kubeconfig)
	if err != nil {
		return nil, err
	}
	kind, name := s.Workload()
	return &Kubernetes{Client: client, Namespace: s.Namespace, Kind: kind, Name: name,
		Identity: s.Identity, ClaimTTL: time.Duration(s.ClaimTTL)}, nil
}

func (s *KubernetesSpec) filesElsewhere() bool { return true }
