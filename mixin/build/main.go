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
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	kingpin.MustParse(app.Parse(os.Args[1:]))

	if err := run(*root, *override, *overrideFile, *format); err != nil {
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
