package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/alecthomas/kingpin/v2"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// journalCommands are `journal check FILE` and `journal salvage FILE NEW`,
// the way back from a damaged journal (docs/runbooks.md).
type journalCommands struct {
	check, salvage *kingpin.CmdClause
	file, src, dst *string
}

func addJournalCommands(app *kingpin.Application) *journalCommands {
	c := &journalCommands{}
	jc := app.Command("journal", "Check or salvage a journal file; the remediator using it must be stopped.")
	c.check = jc.Command("check", "Check a journal file without writing to it: every page, every record, and bbolt's consistency check. Exit 1 with the problems listed when it is damaged.")
	c.file = c.check.Arg("file", "Journal file.").Required().String()
	c.salvage = jc.Command("salvage", "Copy every readable record of a journal file into a new journal file; the damaged one is only read.")
	c.src = c.salvage.Arg("file", "Damaged journal file.").Required().String()
	c.dst = c.salvage.Arg("new", "New journal file to write; must not exist.").Required().String()
	return c
}

// run runs the command if it is one of these.
func (c *journalCommands) run(cmd string) (int, bool) {
	switch cmd {
	case c.check.FullCommand():
		return journalCheck(*c.file), true
	case c.salvage.FullCommand():
		return journalSalvage(*c.src, *c.dst), true
	}
	return 0, false
}

func journalCheck(path string) int {
	s, err := journal.Check(path, journal.DefaultLockTimeout)
	var de *journal.DamagedError
	if errors.As(err, &de) {
		fmt.Fprintf(os.Stderr, "journal %s is damaged: %d problem(s):\n", path, len(de.Problems))
		for _, p := range de.Problems {
			fmt.Fprintf(os.Stderr, "  %s\n", p)
		}
		fmt.Fprintf(os.Stderr, "it was not written to; copy its readable records into a new journal with: openclaw-remediator journal salvage %s NEW\n", path)
		return 1
	}
	if err != nil {
		return fail(err)
	}
	fmt.Printf("journal %s OK: %d bytes, %d pages of %d bytes, transaction %d\n", path, s.Size, s.Pages, s.PageSize, s.TxID)
	for _, b := range s.Buckets() {
		fmt.Printf("  %-10s %d\n", b, s.Entries[b])
	}
	return 0
}

func journalSalvage(src, dst string) int {
	rep, err := journal.Salvage(src, dst, journal.DefaultLockTimeout)
	for _, p := range rep.Problems {
		fmt.Fprintf(os.Stderr, "unreadable: %s\n", p)
	}
	if err != nil {
		return fail(err)
	}
	fmt.Printf("salvaged %s into %s (%s was not written to)\n", src, dst, src)
	fmt.Printf("  %-10s %8s %8s\n", "BUCKET", "COPIED", "SKIPPED")
	for _, b := range rep.Buckets() {
		fmt.Printf("  %-10s %8d %8d\n", b, rep.Copied[b], rep.Skipped[b])
	}
	if rep.Unlinked > 0 {
		fmt.Printf("  %d more incident(s) found on pages the damaged tree no longer reaches: the latest version left of each, maybe older than the lost one\n", rep.Unlinked)
	}
	if len(rep.Problems) > 0 {
		fmt.Printf("%d unreadable page(s) or record(s): the records on them are lost\n", len(rep.Problems))
	}
	fmt.Printf("check it with: openclaw-remediator journal check %s\n", dst)
	return 0
}
