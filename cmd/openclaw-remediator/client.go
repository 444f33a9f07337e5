package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// client is the CLI side of the incidents API.
type client struct {
	url       string
	tokenFile string
}

func (c *client) flags(cmd *kingpin.CmdClause) {
	cmd.Flag("url", "Base URL of the remediator.").Default("http://127.0.0.1:9788").StringVar(&c.url)
	cmd.Flag("bearer-token-file", "File holding the API's bearer token.").StringVar(&c.tokenFile)
}

func (c *client) do(method, path string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.url, "/")+path, nil)
	if err != nil {
		return err
	}
	if c.tokenFile != "" {
		tok, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return fmt.Errorf("bearer token file: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, e.Error)
		}
		return fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
	}
	return json.Unmarshal(body, out)
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "openclaw-remediator: %v\n", err)
	return 1
}

func (c *client) list(state, decision, target, cursor string, limit int, asJSON bool) int {
	q := url.Values{}
	for k, v := range map[string]string{"state": state, "decision": decision, "target": target, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", fmt.Sprint(limit))
	var res struct {
		Incidents []*journal.Incident `json:"incidents"`
		Next      string              `json:"next,omitempty"`
	}
	if err := c.do(http.MethodGet, "/api/v1/incidents?"+q.Encode(), &res); err != nil {
		return fail(err)
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return 0
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tALERT\tACTION\tTARGET\tSTATE\tDECISION\tRESULT")
	for _, inc := range res.Incidents {
		result := ""
		if n := len(inc.Actions); n > 0 {
			result = inc.Actions[n-1].Result
		}
		fmt.Fprintf(tw, "%s\t%s\t%.40q\t%s\t%s\t%s\t%s\t%s\n", inc.ID, inc.ReceivedAt.Local().Format(time.DateTime),
			inc.AlertName, inc.Action, inc.Target, inc.State, inc.Decision, result)
	}
	_ = tw.Flush()
	if res.Next != "" {
		fmt.Fprintf(os.Stderr, "more incidents: --cursor=%s\n", res.Next)
	}
	return 0
}

func (c *client) settle(id, verb string) int {
	var inc journal.Incident
	if err := c.do(http.MethodPost, "/api/v1/incidents/"+url.PathEscape(id)+"/"+verb, &inc); err != nil {
		return fail(err)
	}
	fmt.Printf("incident %s: %s (%s %s)\n", inc.ID, inc.Reason, inc.Action, inc.Target)
	return 0
}

func (c *client) reset(target string) int {
	var res map[string]string
	if err := c.do(http.MethodPost, "/api/v1/targets/"+url.PathEscape(target)+"/reset", &res); err != nil {
		return fail(err)
	}
	fmt.Printf("target %s: circuit closed\n", target)
	return 0
}
