package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// upgradeOptions are the upgrade subcommand's flags.
type upgradeOptions struct {
	to, targets string
	batchSize   int
	dryRun      bool
	wait        bool
	poll        time.Duration
}

// upgrade asks the remediator for a guarded upgrade through its API, as the
// console does, then follows it to its end.
func (c *client) upgrade(o upgradeOptions) int {
	q := url.Values{"to": {o.to}, "batch_size": {strconv.Itoa(o.batchSize)}}
	if o.targets != "" {
		q.Set("targets", o.targets)
	}
	if o.dryRun {
		q.Set("dry_run", "true")
	}
	var u journal.Upgrade
	if err := c.do(http.MethodPost, "/api/v1/upgrades?"+q.Encode(), &u); err != nil {
		return fail(err)
	}
	printUpgrade(&u)
	if o.dryRun || !o.wait {
		return 0
	}
	done := map[int]bool{}
	for u.Active() {
		time.Sleep(o.poll) // polling a remote API, not synchronising a test
		if err := c.do(http.MethodGet, "/api/v1/upgrades/"+url.PathEscape(u.ID), &u); err != nil {
			return fail(err)
		}
		for i := range u.Batches {
			if b := &u.Batches[i]; !done[i] && b.Ended() {
				done[i] = true
				fmt.Printf("batch %d: %s\n", i+1, b.State)
			}
		}
	}
	printUpgrade(&u)
	if u.State != journal.UpgradeDone {
		return 1
	}
	return 0
}

// printUpgrade prints an upgrade or a plan: per batch, each target's
// version (its rollback point) and the argv that upgrades it.
func printUpgrade(u *journal.Upgrade) {
	id := u.ID
	if id == "" {
		id = "(plan)"
	}
	fmt.Printf("upgrade %s to %s: %s\n", id, u.To, u.State)
	if u.Reason != "" {
		fmt.Printf("reason: %s\n", u.Reason)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BATCH\tTARGET\tFROM\tSTATE\tCOMMAND")
	for i, b := range u.Batches {
		for _, s := range b.Steps {
			from := s.From
			switch {
			case s.Error != "" && s.From == "":
				from = "? (" + strings.ReplaceAll(s.Error, "\n", "; ") + ")"
			case s.Skipped:
				from += " (already on it: skipped)"
			}
			argv := make([]string, len(s.Argv))
			for k, a := range s.Argv {
				argv[k] = strconv.Quote(a)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, s.Target, from, b.State, strings.Join(argv, " "))
		}
	}
	_ = tw.Flush()
}
