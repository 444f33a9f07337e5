package openclaw

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// Lock is the JSON a gateway writes into gateway.<hash>.lock and gateway.state.lock.
type Lock struct {
	PID                 int    `json:"pid"`
	OwnerID             string `json:"ownerId,omitempty"`
	CronOwnerProjection string `json:"cronOwnerProjection,omitempty"`
	CreatedAt           string `json:"createdAt,omitempty"`
	ConfigPath          string `json:"configPath,omitempty"`
	StateDir            string `json:"stateDir,omitempty"`
	Port                int    `json:"port,omitempty"`
	// StartTime is the owner's start time in clock ticks since boot (field 22
	// of /proc/PID/stat); 0 when the writer did not record it.
	StartTime uint64 `json:"startTime,omitempty"`
}

// ParseLock decodes a lock file's content. The gateway pads the JSON with
// whitespace, so only the first JSON value counts; anything but whitespace
// after it is an error.
func ParseLock(data []byte) (Lock, error) {
	var l Lock
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&l); err != nil {
		return Lock{}, fmt.Errorf("decode lock JSON: %w", err)
	}
	rest := data[dec.InputOffset():]
	if len(bytes.TrimSpace(bytes.Trim(rest, "\x00"))) != 0 {
		return Lock{}, fmt.Errorf("unexpected data after lock JSON at byte %d", dec.InputOffset())
	}
	if l.PID <= 0 {
		return Lock{}, fmt.Errorf("lock has no valid pid (got %d)", l.PID)
	}
	return l, nil
}

// Marshal encodes the lock the way the gateway writes it: JSON indented by
// two spaces, a newline, then a whitespace trailer (8 tabs and 16 random
// bytes spelled bit by bit, tab for 1 and space for 0, most significant bit
// first, then a newline) that the gateway's lock reclaim uses as a nonce.
func (l Lock) Marshal() []byte {
	b, _ := json.MarshalIndent(l, "", "  ") // strings and ints cannot fail
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	b = append(b, '\n')
	b = append(b, bytes.Repeat([]byte{'\t'}, 8)...)
	for _, c := range nonce {
		for bit := 7; bit >= 0; bit-- {
			if c&(1<<bit) != 0 {
				b = append(b, '\t')
			} else {
				b = append(b, ' ')
			}
		}
	}
	return append(b, '\n')
}

// LockFileName is the name of the per-config gateway lock: gateway.<first 8
// hex digits of sha256(configPath)>.lock.
func LockFileName(configPath string) string {
	sum := sha256.Sum256([]byte(configPath))
	return "gateway." + hex.EncodeToString(sum[:])[:8] + ".lock"
}

// StateLockName is the second lock the gateway holds next to the per-config one.
const StateLockName = "gateway.state.lock"

// LockDir is where a gateway with the given state directory keeps its locks.
func LockDir(stateDir string, uid int) string {
	return filepath.Join(stateDir, "tmp", "openclaw-"+strconv.Itoa(uid))
}

// LockDirs lists where locks may be: the state-dir layout of current builds
// first, then the $TMPDIR layout of older ones.
func LockDirs(stateDir, tmpDir string, uid int) []string {
	if tmpDir == "" {
		tmpDir = os.TempDir()
	}
	return []string{LockDir(stateDir, uid), filepath.Join(tmpDir, "openclaw-"+strconv.Itoa(uid))}
}

// LockDirsFor lists where the locks of a gateway running as any of uids may
// be, without duplicates: the gateway's own uid (when its process is or was
// known) first, then the caller's, since a monitor often runs as another
// user than the gateway.
func LockDirsFor(stateDir, tmpDir string, uids ...int) []string {
	var dirs []string
	for _, uid := range uids {
		for _, d := range LockDirs(stateDir, tmpDir, uid) {
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// LockFile is a lock found on disk. Err is set when the file could not be
// read or parsed; such a lock is never judged stale.
type LockFile struct {
	Path    string
	ModTime time.Time
	Lock    Lock
	Err     error
}

// FindLocks returns the gateway.*.lock files in dirs, sorted by path. Missing
// directories are not an error; symlinks are skipped, never followed, because
// whoever acts on a lock must act on the file that is really in the directory.
func FindLocks(dirs ...string) ([]LockFile, error) {
	var out []LockFile
	for _, dir := range dirs {
		entries, err := readDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("list locks in %s: %w", dir, err)
		}
		for _, e := range entries {
			if ok, _ := filepath.Match("gateway.*.lock", e.Name()); !ok {
				continue
			}
			path := filepath.Join(dir, e.Name())
			fi, err := os.Lstat(path)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // removed since the glob
				}
				return nil, fmt.Errorf("stat lock %s: %w", path, err)
			}
			if !fi.Mode().IsRegular() {
				continue
			}
			lf := LockFile{Path: path, ModTime: fi.ModTime()}
			data, err := readLimited(path, 64<<10)
			if err == nil {
				lf.Lock, err = ParseLock(data)
			}
			if err != nil {
				lf.Err = fmt.Errorf("lock %s: %w", path, err)
			}
			out = append(out, lf)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// LockState says whether a lock's owner still holds it.
type LockState string

const (
	LockLive      LockState = "live"
	LockOwnerDead LockState = "owner_dead" // no process with that pid
	LockPIDReused LockState = "pid_reused" // the pid belongs to a younger or older process
)

// Stale reports whether the state means nobody holds the lock any more.
func (s LockState) Stale() bool { return s == LockOwnerDead || s == LockPIDReused }

// State decides whether the lock's owner is alive. A lock without a recorded
// start time is live as long as its pid exists: without it, reuse cannot be
// proven, and a live owner's lock must never be called stale.
func (l Lock) State(procs ProcFS) (LockState, error) {
	start, err := procs.StartTime(l.PID)
	if errors.Is(err, ErrNoProcess) {
		if procs.hiddenAlive(l.PID) {
			return LockLive, nil
		}
		return LockOwnerDead, nil
	}
	if err != nil {
		return "", fmt.Errorf("check lock owner %d: %w", l.PID, err)
	}
	if l.StartTime != 0 && start != l.StartTime {
		return LockPIDReused, nil
	}
	return LockLive, nil
}

// hiddenAlive reports whether pid, absent from the proc root, exists all
// the same: /proc mounted with hidepid hides other users' processes, and
// the kernel answers EPERM, not ESRCH, for a process we may not signal.
func (p ProcFS) hiddenAlive(pid int) bool {
	return p.Root == DefaultProcFS.Root && syscall.Kill(pid, 0) == syscall.EPERM
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, _, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
