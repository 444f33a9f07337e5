// Command notifysink stands in for people in the demo (deploy/demo.sh): an
// Alertmanager webhook receiver that prints one line per alert it is told
// about, where a real setup would send an email or a chat message.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/alertmanager/notify/webhook"
)

// maxBody bounds a notification; Alertmanager's are a few KiB.
const maxBody = 1 << 20

func main() {
	addr := kingpin.Flag("web.listen-address", "Address to listen on for Alertmanager's webhook.").Default("127.0.0.1:29094").String()
	kingpin.HelpFlag.Short('h')
	kingpin.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		var msg webhook.Message
		if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&msg); err != nil {
			http.Error(w, "not an Alertmanager webhook payload: "+err.Error(), http.StatusBadRequest)
			return
		}
		for _, line := range lines(&msg) {
			fmt.Println(line)
		}
	})
	if err := http.ListenAndServe(*addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "notifysink:", err)
		os.Exit(1)
	}
}

// lines renders a notification the way a short chat message would read:
// status, alert, severity, the labels that say where, and the summary.
// Label values are untrusted: %q keeps them on one line.
func lines(msg *webhook.Message) []string {
	var out []string
	for _, a := range msg.Alerts {
		var where []string
		for _, k := range []string{"gateway", "instance", "target"} {
			if v := a.Labels[k]; v != "" {
				where = append(where, fmt.Sprintf("%s=%q", k, v))
			}
		}
		sort.Strings(where)
		out = append(out, fmt.Sprintf("%s %q severity=%q %s: %q (receiver %q)",
			strings.ToUpper(a.Status), a.Labels["alertname"], a.Labels["severity"], strings.Join(where, " "), a.Annotations["summary"], msg.Receiver))
	}
	return out
}
