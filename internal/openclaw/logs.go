package openclaw

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// DefaultLogDir is where the gateway writes file logs unless logging.file says
// otherwise: /tmp/openclaw, on Windows the user's temporary directory's
// openclaw (the gateway never uses /tmp there).
var DefaultLogDir = defaultLogDir()

func defaultLogDir() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(os.TempDir(), "openclaw")
	}
	return "/tmp/openclaw"
}

// ErrNoLog means no openclaw-*.log exists in the searched directories.
var ErrNoLog = errors.New("no openclaw-*.log file")

// LogDirs lists where log files may be: the configured or default directory,
// then the $TMPDIR/openclaw-<uid> fallback the gateway uses when the first is
// not writable (on Windows the default itself).
func LogDirs(configured, tmpDir string, uid int) []string {
	if configured == "" {
		configured = DefaultLogDir
	}
	if tmpDir == "" {
		tmpDir = os.TempDir()
	}
	fallback := filepath.Join(tmpDir, userTmpName(uid))
	if fallback == configured {
		return []string{configured}
	}
	return []string{configured, fallback}
}

var logNameRe = regexp.MustCompile(`^openclaw-(?:(.+)-)?(\d{4}-\d{2}-\d{2})\.log$`)

// LogFileName names the log file of a profile ("" for the default) on a day.
func LogFileName(profile string, day time.Time) string {
	if profile == "" {
		return "openclaw-" + day.Format(time.DateOnly) + ".log"
	}
	return "openclaw-" + profile + "-" + day.Format(time.DateOnly) + ".log"
}

// RotatedLogName is the name of the i-th archive of a live log file: the
// gateway inserts the index before the extension, openclaw-DATE.1.log.
func RotatedLogName(path string, i int) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + strconv.Itoa(i) + ext
}

// IsLogName says whether a file name is one of the gateway's logs: the live
// openclaw[-profile]-DATE.log, its rotated .N.log archives, and those
// compressed (.log.gz, by the remediator's cleanup_logs).
func IsLogName(name string) bool {
	return strings.HasPrefix(name, "openclaw-") && (strings.HasSuffix(name, ".log") || IsCompressedLog(name))
}

// IsCompressedLog says whether a log file name is a compressed archive.
func IsCompressedLog(name string) bool { return strings.HasSuffix(name, ".log.gz") }

// CompressedLogName is the name of log file name compressed: name.gz, or
// when that is taken (i > 0) the i-th archive's name with .gz, so that an
// existing archive is never clobbered.
func CompressedLogName(name string, i int) string {
	if i > 0 {
		name = RotatedLogName(name, i)
	}
	return name + ".gz"
}

// ParseLogFileName splits a live log file's name into profile and date.
// Rotated archives (DATE.1.log … DATE.5.log) do not match.
func ParseLogFileName(name string) (profile, date string, ok bool) {
	m := logNameRe.FindStringSubmatch(name)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// LogFile is a live log file found on disk.
type LogFile struct {
	Path    string
	Profile string
	Date    string
	ModTime time.Time
	Size    int64
}

// NewestLog returns the most recently modified openclaw-*.log in dirs. It goes
// by modification time, not by the date in the name: some builds keep
// writing the start day's file after midnight. profile filters by profile
// when non-empty; "*" matches any. To read the file, OpenNewestLog.
func NewestLog(profile string, dirs ...string) (LogFile, error) {
	lf, d, err := newestLog(profile, dirs)
	if d != nil {
		d.Close()
	}
	return lf, err
}

// OpenNewestLog finds the newest log as NewestLog does and opens it for
// reading through the descriptor of the directory it was listed in
// (OpenRegularAt): a symlink, FIFO or device renamed over it since the
// listing is refused (ErrNotRegular), and a directory swapped for a symlink
// cannot redirect the open. A file rotated away in between is looked for
// again. ModTime and Size are the opened file's.
func OpenNewestLog(profile string, dirs ...string) (LogFile, *os.File, error) {
	for attempt := 1; ; attempt++ {
		lf, d, err := newestLog(profile, dirs)
		if err != nil {
			return LogFile{}, nil, err
		}
		f, fi, err := OpenRegularAt(d, filepath.Base(lf.Path))
		d.Close()
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			continue
		}
		if err != nil {
			return LogFile{}, nil, fmt.Errorf("newest log: %w", err)
		}
		lf.ModTime, lf.Size = fi.ModTime(), fi.Size()
		return lf, f, nil
	}
}

// newestLog finds the newest log and returns the directory it is in, open.
func newestLog(profile string, dirs []string) (LogFile, *os.File, error) {
	var best LogFile
	var bestDir *os.File
	for _, dir := range dirs {
		d, err := openDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var entries []os.DirEntry
		if err == nil {
			entries, err = listDir(d)
		}
		if err != nil {
			if d != nil {
				d.Close()
			}
			if bestDir != nil {
				bestDir.Close()
			}
			return LogFile{}, nil, fmt.Errorf("list logs in %s: %w", dir, err)
		}
		found := false
		for _, e := range entries {
			prof, date, ok := ParseLogFileName(e.Name())
			if !ok || !e.Type().IsRegular() || (profile != "*" && prof != profile) {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // rotated away since the listing
			}
			if best.Path == "" || fi.ModTime().After(best.ModTime) {
				best = LogFile{Path: filepath.Join(dir, e.Name()), Profile: prof, Date: date, ModTime: fi.ModTime(), Size: fi.Size()}
				found = true
			}
		}
		if !found {
			d.Close()
			continue
		}
		if bestDir != nil {
			bestDir.Close()
		}
		bestDir = d
	}
	if best.Path == "" {
		return LogFile{}, nil, fmt.Errorf("%w in %s", ErrNoLog, strings.Join(dirs, ", "))
	}
	return best, bestDir, nil
}

// Level is a tslog level.
type Level uint8

// tslog's level ids.
const (
	LevelSilly Level = iota
	LevelTrace
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelFatal
)

var levelNames = [...]string{"SILLY", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "UNKNOWN"
}

// ParseLevel maps a tslog level name to its Level.
func ParseLevel(name string) (Level, bool) {
	for i, n := range levelNames {
		if strings.EqualFold(n, name) {
			return Level(i), true
		}
	}
	return 0, false
}

// Record is one decoded log line.
type Record struct {
	Time      time.Time
	Level     Level
	Subsystem string
	Message   string
}

// rawRecord names only the keys we read, so decoding a line builds no tree
// for the rest (argument objects, parentNames, runtime details).
type rawRecord struct {
	Meta struct {
		LevelID   *int   `json:"logLevelId"`
		LevelName string `json:"logLevelName"`
		Name      string `json:"name"`
		Date      string `json:"date"`
	} `json:"_meta"`
	Time    string  `json:"time"`
	Message *string `json:"message"`
	// "1" is the first argument: the message when the logger has a name,
	// but an object when the call passed one (then "2" is the message).
	Arg1 json.RawMessage `json:"1"`
}

// DecodeRecord decodes one tslog JSON line into r.
func DecodeRecord(line []byte, r *Record) error {
	var raw rawRecord
	if err := json.Unmarshal(line, &raw); err != nil {
		return fmt.Errorf("decode log line: %w", err)
	}
	switch {
	case raw.Meta.LevelName != "":
		lvl, ok := ParseLevel(raw.Meta.LevelName)
		if !ok {
			return fmt.Errorf("decode log line: unknown level %q", raw.Meta.LevelName)
		}
		r.Level = lvl
	case raw.Meta.LevelID != nil && *raw.Meta.LevelID >= 0 && *raw.Meta.LevelID < len(levelNames):
		r.Level = Level(*raw.Meta.LevelID)
	default:
		return errors.New("decode log line: no _meta.logLevelName")
	}
	ts := raw.Time
	if ts == "" {
		ts = raw.Meta.Date
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return fmt.Errorf("decode log line: time: %w", err)
	}
	r.Time = t
	r.Subsystem = subsystem(raw.Meta.Name)
	switch {
	case raw.Message != nil:
		r.Message = *raw.Message
	default:
		r.Message = ""
		_ = json.Unmarshal(raw.Arg1, &r.Message) // left empty unless a string
	}
	return nil
}

// subsystem reads the logger name, which the gateway sets to a JSON object
// such as {"subsystem":"gateway"} or {"module":"cron",…}, or a plain name.
func subsystem(name string) string {
	if !strings.HasPrefix(name, "{") {
		return name
	}
	var n struct {
		Subsystem string `json:"subsystem"`
		Module    string `json:"module"`
	}
	if json.Unmarshal([]byte(name), &n) != nil {
		return ""
	}
	if n.Subsystem != "" {
		return n.Subsystem
	}
	return n.Module
}

// EncodeRecord renders r as the gateway's tslog writes it (used by the
// simulator; the shape is checked against the real gateway by the
// conformance test).
func EncodeRecord(r Record, hostname string) []byte {
	name := `{"subsystem":"` + r.Subsystem + `"}`
	line := struct {
		Arg0 string `json:"0"`
		Arg1 string `json:"1"`
		Meta struct {
			Runtime        string   `json:"runtime"`
			RuntimeVersion string   `json:"runtimeVersion"`
			Hostname       string   `json:"hostname"`
			Date           string   `json:"date"`
			LevelID        int      `json:"logLevelId"`
			LevelName      string   `json:"logLevelName"`
			Name           string   `json:"name"`
			ParentNames    []string `json:"parentNames"`
		} `json:"_meta"`
		Time     string `json:"time"`
		Hostname string `json:"hostname"`
		Message  string `json:"message"`
	}{Arg0: name, Arg1: r.Message, Time: r.Time.Format("2006-01-02T15:04:05.000-07:00"), Hostname: hostname, Message: r.Message}
	line.Meta.Runtime = "node"
	line.Meta.RuntimeVersion = "24.21.0"
	line.Meta.Hostname = hostname
	line.Meta.Date = r.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	line.Meta.LevelID = int(r.Level)
	line.Meta.LevelName = r.Level.String()
	line.Meta.Name = name
	line.Meta.ParentNames = []string{"openclaw"}
	b, _ := json.Marshal(line) // strings and ints only
	return append(b, '\n')
}
