// Command testreport reads `go test -json` on standard input and prints what
// a person reading CI needs: one line per package, the whole output of every
// test that failed (and of a package that failed outside its tests), and
// nothing of the tests that passed. -save keeps the events in a file;
// -slowest N prints, from saved files, the slowest tests and packages, which
// is where the time of `make test` goes.
//
//	go test -json ./... 2>&1 | testreport -save unit.json
//	testreport -slowest 20 unit.json e2e.json
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// event is test2json's record (cmd/test2json).
type event struct {
	Time       time.Time `json:",omitempty"`
	Action     string
	Package    string  `json:",omitempty"`
	ImportPath string  `json:",omitempty"` // build-output, build-fail
	Test       string  `json:",omitempty"`
	Elapsed    float64 `json:",omitempty"`
	Output     string  `json:",omitempty"`
}

func main() {
	save := flag.String("save", "", "also write the events read from standard input to `FILE`")
	slowest := flag.Int("slowest", 0, "print the `N` slowest tests and every package's time from the saved files given as arguments")
	flag.Parse()
	var err error
	if *slowest > 0 {
		err = printSlowest(os.Stdout, *slowest, flag.Args())
	} else {
		err = filter(os.Stdin, os.Stdout, *save)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
}

type testKey struct{ pkg, test string }

// filter prints the failures and package results of the stream in, and fails
// when a test or package failed (go test's own exit status says so too; this
// is for a pipeline that loses it).
func filter(in io.Reader, out io.Writer, save string) error {
	var saved *bufio.Writer
	if save != "" {
		f, err := os.Create(save)
		if err != nil {
			return err
		}
		defer f.Close()
		saved = bufio.NewWriter(f)
		defer saved.Flush()
	}
	output := map[testKey][]string{}
	failed := false
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			// Not an event: go vet's or the linker's words, say.
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		if saved != nil {
			saved.Write(line)
			saved.WriteByte('\n')
		}
		key := testKey{ev.Package, ev.Test}
		switch ev.Action {
		case "build-output":
			fmt.Fprint(out, ev.Output)
		case "build-fail":
			failed = true
		case "output":
			output[key] = append(output[key], ev.Output)
		case "pass", "skip":
			switch {
			case ev.Test != "":
			case ev.Action == "skip":
				fmt.Fprintf(out, "?    %s [no test files]\n", ev.Package)
			default:
				fmt.Fprintf(out, "ok   %s %.1fs\n", ev.Package, ev.Elapsed)
			}
			delete(output, key)
		case "fail":
			failed = true
			fmt.Fprint(out, strings.Join(output[key], ""))
			delete(output, key)
			if ev.Test == "" {
				fmt.Fprintf(out, "FAIL %s %.1fs\n", ev.Package, ev.Elapsed)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading go test -json: %w", err)
	}
	// A test binary that died (a panic, the -timeout) leaves tests that
	// never ended: their output is the evidence.
	for key, lines := range output {
		if key.test != "" && len(lines) > 0 {
			fmt.Fprintf(out, "=== output of %s %s, which did not end:\n%s", key.pkg, key.test, strings.Join(lines, ""))
		}
	}
	if failed {
		return errors.New("some tests failed")
	}
	return nil
}

type timing struct {
	name    string
	elapsed float64
	result  string
}

// printSlowest prints the n slowest tests (top-level and subtests) and every
// package, slowest first, from saved event files.
func printSlowest(out io.Writer, n int, files []string) error {
	var tests, pkgs []timing
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for line := 1; sc.Scan(); line++ {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				f.Close()
				return fmt.Errorf("%s:%d: %w", file, line, err)
			}
			if ev.Action != "pass" && ev.Action != "fail" {
				continue
			}
			if ev.Test == "" {
				pkgs = append(pkgs, timing{ev.Package, ev.Elapsed, ev.Action})
			} else {
				tests = append(tests, timing{ev.Package + " " + ev.Test, ev.Elapsed, ev.Action})
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	bySlowest := func(a, b timing) int { return cmp.Compare(b.elapsed, a.elapsed) }
	slices.SortFunc(tests, bySlowest)
	slices.SortFunc(pkgs, bySlowest)
	total := 0.0
	for _, p := range pkgs {
		total += p.elapsed
	}
	fmt.Fprintf(out, "\nslowest tests (parallel tests overlap; a parent's time includes its subtests'):\n")
	for _, t := range tests[:min(n, len(tests))] {
		fmt.Fprintf(out, "  %8.1fs  %-4s  %s\n", t.elapsed, t.result, t.name)
	}
	fmt.Fprintf(out, "packages (%.1fs in all; packages of one go test run overlap):\n", total)
	for _, p := range pkgs {
		fmt.Fprintf(out, "  %8.1fs  %-4s  %s\n", p.elapsed, p.result, p.name)
	}
	return nil
}
