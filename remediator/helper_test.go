package remediator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// helperArg as the first argument turns this test binary into one of the
// programs the remediator runs as a child process (exec's operator argv, a
// stand-in for `openclaw update`), so that tests run real processes without
// a shell. go test itself only ever passes -test.* flags.
const helperArg = "clawwatch-test-helper"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == helperArg {
		os.Exit(helperMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// helperArgv is the argv that runs the helper program with args.
func helperArgv(t testing.TB, args ...string) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{self, helperArg}, args...)
}

func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no program")
		return 2
	}
	var err error
	switch args[0] {
	case "exec-env":
		err = execEnvHelper(args[1:])
	case "openclaw":
		if len(args) > 1 && args[1] == "backup" {
			err = openclawBackupHelper(args[2:])
		} else {
			err = openclawUpdateHelper(args[1:])
		}
	case "report":
		return reportHelper(args[1:])
	case "gateway":
		err = gatewayHelper()
	case "http-server":
		err = foreignServerHelper(args[1:])
	default:
		err = fmt.Errorf("unknown program %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

// reportHelper stands in for a CLI that prints a JSON report: "report
// CODE FILE [ARG...]" logs a line on standard error, prints FILE on
// standard output and exits CODE.
func reportHelper(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "report CODE FILE")
		return 2
	}
	code, err := strconv.Atoi(args[0])
	b, err2 := os.ReadFile(args[1])
	if err != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "report:", err, err2)
		return 2
	}
	fmt.Fprintln(os.Stderr, "[openclaw] {not the report} inspecting the installation")
	os.Stdout.Write(b)
	return code
}

// execEnvHelper is an operator's exec program: it writes the ALERT_*
// variables it was given and its own arguments to the file named by its
// first argument, then prints more than the journal keeps.
func execEnvHelper(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("exec-env FILE")
	}
	var env []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "ALERT_") {
			env = append(env, e)
		}
	}
	slices.Sort(env)
	rec, _ := json.Marshal(map[string]any{"args": args, "env": env})
	if err := os.WriteFile(args[0], rec, 0o600); err != nil {
		return err
	}
	for i := range 1000 {
		fmt.Printf("exec helper line %04d %s\n", i, strings.Repeat(".", 40))
	}
	fmt.Println("exec helper done")
	return nil
}

// Environment of the `openclaw update` stand-in, set through the target's
// driver env.
const (
	envSimArgv   = "CLAWWATCH_TEST_SIM_ARGV"   // JSON argv of the simulator, without --version
	envSimPort   = "CLAWWATCH_TEST_SIM_PORT"   // its gateway port
	envSimState  = "CLAWWATCH_TEST_SIM_STATE"  // its state directory (locks)
	envSimOutput = "CLAWWATCH_TEST_SIM_OUTPUT" // file for its output
	envUpdateLog = "CLAWWATCH_TEST_UPDATE_LOG" // one line per update: the tag
	// envMigrates makes the stand-in migrate like the real gateway: each
	// version it installs writes its schema (the version) into the state
	// dir, and it refuses to install a version older than that schema.
	envMigrates = "CLAWWATCH_TEST_MIGRATES"
	// envPackage is the stand-in's installed package: a directory whose
	// package.json names the version. The update stand-in replaces it as
	// npm does, and the "gateway" helper starts the simulator on its version.
	envPackage = "CLAWWATCH_TEST_PACKAGE"
)

// writePackage lays out a package of version in dir, as npm's install does:
// a new directory renamed into place, the old one removed.
func writePackage(dir, version string) error {
	next := dir + ".installing"
	if err := os.MkdirAll(filepath.Join(next, "node_modules", "dep"), 0o755); err != nil {
		return err
	}
	pkg := fmt.Sprintf(`{"name":"openclaw","version":%q}`, version)
	if err := os.WriteFile(filepath.Join(next, "package.json"), []byte(pkg), 0o644); err != nil {
		return err
	}
	if err := os.Symlink("../package.json", filepath.Join(next, "node_modules", "dep", "link")); err != nil {
		return err
	}
	old := dir + ".old"
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(next, dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// gatewayHelper starts the simulator on the version of the installed
// package, as the real gateway runs the release installed: it replaces
// itself (same pid) with the simulator.
func gatewayHelper() error {
	v, err := openclaw.PackageVersion(os.Getenv(envPackage))
	if err != nil {
		return err
	}
	var argv []string
	if err := json.Unmarshal([]byte(os.Getenv(envSimArgv)), &argv); err != nil || len(argv) == 0 {
		return fmt.Errorf("%s: %v", envSimArgv, err)
	}
	argv = append(argv, "--gateway-version", v.Version)
	return syscall.Exec(argv[0], argv, os.Environ())
}

// schemaFile is where the migrating stand-in keeps the state's schema.
func schemaFile() string { return filepath.Join(os.Getenv(envSimState), "schema") }

// openclawBackupHelper behaves like `openclaw backup create --output DIR
// --verify --json` and `openclaw backup restore ARCHIVE --target DIR
// --json` for the stand-in's state (its schema file): the archive holds the
// schema, the restore lays it out as the real one does, under
// ROOT/payload/posix/<state dir> with ROOT/manifest.json.
func openclawBackupHelper(args []string) error {
	state := os.Getenv(envSimState)
	switch {
	case len(args) == 5 && args[0] == "create" && args[1] == "--output" && args[3] == "--verify" && args[4] == "--json":
		schema, err := os.ReadFile(schemaFile())
		if err != nil {
			return err
		}
		archive := filepath.Join(args[2], time.Now().UTC().Format("2006-01-02T15-04-05.000000000")+"-openclaw-backup.tar.gz")
		if err := os.WriteFile(archive, schema, 0o600); err != nil {
			return err
		}
		fmt.Println("OpenClaw stand-in")
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"archivePath": archive, "verified": true})
	case len(args) == 5 && args[0] == "restore" && args[2] == "--target" && args[4] == "--json":
		schema, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		root := filepath.Join(args[3], "backup")
		payload := filepath.Join(root, "payload", "posix", state)
		if err := os.MkdirAll(payload, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(payload, "schema"), schema, 0o600); err != nil {
			return err
		}
		manifest, _ := json.Marshal(map[string]any{"assets": []any{map[string]string{
			"kind": "state", "sourcePath": state, "archivePath": filepath.Join("backup", "payload", "posix", state)}}})
		return os.WriteFile(filepath.Join(root, "manifest.json"), manifest, 0o600)
	}
	return fmt.Errorf("usage: openclaw backup create --output DIR --verify --json | restore ARCHIVE --target DIR --json (got %q)", args)
}

// openclawUpdateHelper behaves like `openclaw update --tag VERSION --yes`
// for the simulator: it "installs" VERSION by stopping the running gateway
// and starting the simulator again with --version VERSION, detached, as the
// real command restarts the gateway after installing.
func openclawUpdateHelper(args []string) error {
	if len(args) != 4 || args[0] != "update" || args[1] != "--tag" || args[3] != "--yes" {
		return fmt.Errorf("usage: openclaw update --tag VERSION --yes (got %q)", args)
	}
	version := args[2]
	if os.Getenv(envMigrates) != "" {
		if schema, err := os.ReadFile(schemaFile()); err == nil && string(schema) > version {
			return fmt.Errorf("Update refused: database has schema %s; target supports %s", schema, version)
		}
		if err := os.WriteFile(schemaFile(), []byte(version), 0o600); err != nil {
			return err
		}
	}
	if dir := os.Getenv(envPackage); dir != "" {
		if err := writePackage(dir, version); err != nil {
			return err
		}
	}
	if f := os.Getenv(envUpdateLog); f != "" {
		lf, err := os.OpenFile(f, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		fmt.Fprintln(lf, version)
		lf.Close()
	}
	var argv []string
	if err := json.Unmarshal([]byte(os.Getenv(envSimArgv)), &argv); err != nil || len(argv) == 0 {
		return fmt.Errorf("%s: %v", envSimArgv, err)
	}
	port, err := strconv.Atoi(os.Getenv(envSimPort))
	if err != nil {
		return fmt.Errorf("%s: %w", envSimPort, err)
	}
	p := &driver.Process{
		Procs:    openclaw.DefaultProcFS,
		Port:     port,
		LockDirs: openclaw.LockDirs(os.Getenv(envSimState), "", os.Getuid()),
		Argv:     append(argv, "--gateway-version", version),
		Output:   os.Getenv(envSimOutput),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := p.Stop(ctx, 10*time.Second)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	fmt.Println(out)
	// As the restart action does: a killed gateway may leave its lock.
	if _, report, err := actions.CleanupLocks(p.Procs, p.LockDirs); err != nil {
		return fmt.Errorf("locks: %w: %s", err, report)
	}
	if out, err = p.Start(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	fmt.Println(out)
	fmt.Printf("openclaw updated to %s\n", version)
	return nil
}
