// Command build formats the mixin's jsonnet and writes the generated rule
// files and dashboards (`make mixin`, `go generate ./mixin`).
//
// With --override or --override-file it renders the mixin with a jsonnet
// object mixed over it, for example shorter windows for a test:
//
//	go run ./mixin/build --root=/tmp/out --override="{ _config+:: { gaugeWindow: '30s' } }"
//
// writes /tmp/out/mixin/alerts.yaml, /tmp/out/mixin/rules.yaml and
// /tmp/out/dashboards/*.json.
//
// With --batch it reads a JSON array of such overrides on standard input and
// writes a JSON array with, for each, the generated files (path → text) or
// the error. The mixin's tests render their many overrides this way: jsonnet
// evaluates about ten times slower under -race than in this binary.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/alecthomas/kingpin/v2"
	"github.com/google/go-jsonnet/formatter"

	"github.com/clawwatch/clawwatch/mixin"
)

func main() {
	app := kingpin.New("build", "Render the clawwatch mixin into rule files and Grafana dashboards.")
	root := app.Flag("root", "Directory the files are written under (mixin/… and dashboards/…).").Default(".").String()
	override := app.Flag("override", "Jsonnet object mixed over the mixin, e.g. \"{ _config+:: { gaugeWindow: '30s' } }\".").String()
	overrideFile := app.Flag("override-file", "File holding such a jsonnet object.").ExistingFile()
	format := app.Flag("format", "First format the jsonnet sources under <root>/mixin in place, as jsonnetfmt would.").Bool()
	batch := app.Flag("batch", "Read a JSON array of overrides on standard input; write a JSON array of their renders (files or error) on standard output.").Bool()
	kingpin.MustParse(app.Parse(os.Args[1:]))

	var err error
	if *batch {
		err = renderBatch(os.Stdin, os.Stdout)
	} else {
		err = run(*root, *override, *overrideFile, *format)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func run(root, override, overrideFile string, format bool) error {
	if overrideFile != "" {
		if override != "" {
			return fmt.Errorf("--override and --override-file exclude each other")
		}
		data, err := os.ReadFile(overrideFile)
		if err != nil {
			return err
		}
		override = string(data)
	}
	if format {
		if err := formatSources(filepath.Join(root, "mixin")); err != nil {
			return err
		}
	}
	files, err := mixin.Render(override)
	if err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// formatSources rewrites every .jsonnet and .libsonnet file under dir that
// go-jsonnet's formatter would change.
func formatSources(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".jsonnet") || strings.HasSuffix(p, ".libsonnet")) {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out, err := formatter.Format(p, string(src), formatter.DefaultOptions())
		if err != nil {
			return fmt.Errorf("format: %w", err)
		}
		if out == string(src) {
			return nil
		}
		return os.WriteFile(p, []byte(out), 0o644)
	})
}

// Rendered is one override's result in --batch mode.
type Rendered struct {
	Files map[string]string `json:"files,omitempty"`
	Error string            `json:"error,omitempty"`
}

// renderBatch renders the overrides read from r, one per core at a time, and
// writes their results to w in the same order.
func renderBatch(r io.Reader, w io.Writer) error {
	var overrides []string
	if err := json.NewDecoder(r).Decode(&overrides); err != nil {
		return fmt.Errorf("standard input: a JSON array of strings: %w", err)
	}
	out := make([]Rendered, len(overrides))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, o := range overrides {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			files, err := mixin.Render(o)
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].Files = make(map[string]string, len(files))
			for _, f := range files {
				out[i].Files[f.Path] = string(f.Data)
			}
		})
	}
	wg.Wait()
	return json.NewEncoder(w).Encode(out)
}
