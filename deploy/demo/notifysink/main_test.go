package main

import (
	"slices"
	"testing"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
)

func TestLines(t *testing.T) {
	msg := &webhook.Message{Data: &template.Data{
		Receiver: "people",
		Alerts: template.Alerts{{
			Status:      "firing",
			Labels:      template.KV{"alertname": "OpenClawGatewayHung", "severity": "critical", "gateway": "demo\nfake line", "instance": "127.0.0.1:9787"},
			Annotations: template.KV{"summary": "OpenClaw gateway process is alive but does not answer."},
		}},
	}}
	want := []string{`FIRING "OpenClawGatewayHung" severity="critical" gateway="demo\nfake line" instance="127.0.0.1:9787": "OpenClaw gateway process is alive but does not answer." (receiver "people")`}
	if got := lines(msg); !slices.Equal(got, want) {
		t.Errorf("lines:\n%q\nwant\n%q", got, want)
	}
}
