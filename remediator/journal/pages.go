package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// pages.go reads bbolt's file format (version 2) with every offset checked
// against the page and the file, through ReadAt, never the memory map. bbolt
// itself trusts the file: a reference past the end of a truncated file is a
// fault that no recover catches, a wrong page type a panic, and Tx.Check
// walks the pages in a goroutine of its own, where a panic ends the
// process. So this walk goes first and bbolt only sees a file it has
// found sound; salvage reads a damaged file with it alone, skipping the
// pages it cannot read.
//
// The layout is bbolt's internal/common: a page header (id u64, flags u16,
// count u16, overflow u32), then 16-byte elements, keys and values after
// them; numbers in the machine's byte order, as bbolt writes them.

const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16
	elemSize         = 16 // branch and leaf elements alike
	bucketHeaderSize = 16 // root pgid, sequence
	metaSize         = 64
	flagBranch       = 0x01
	flagLeaf         = 0x02
	flagFreelist     = 0x10
	bucketLeafFlag   = 0x01
	noFreelist       = ^uint64(0)
	maxTreeDepth     = 64
)

var ne = binary.NativeEndian

type boltMeta struct {
	pageSize uint32
	root     uint64 // root bucket's page
	freelist uint64
	hwm      uint64 // pages in use: the high-water mark
	txid     uint64
}

// parseMeta reads a meta page's body (b starts at the page) and checks its
// magic, version and checksum as bbolt does.
func parseMeta(b []byte) (boltMeta, error) {
	if len(b) < pageHeaderSize+metaSize {
		return boltMeta{}, errors.New("too short for a meta page")
	}
	m := b[pageHeaderSize:]
	switch {
	case ne.Uint32(m[0:]) != boltMagic:
		return boltMeta{}, errors.New("not a bbolt meta page (bad magic)")
	case ne.Uint32(m[4:]) != boltVersion:
		return boltMeta{}, fmt.Errorf("bbolt format version %d, want %d", ne.Uint32(m[4:]), boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != ne.Uint64(m[56:]) {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	return boltMeta{
		pageSize: ne.Uint32(m[8:]), root: ne.Uint64(m[16:]), freelist: ne.Uint64(m[32:]),
		hwm: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:]),
	}, nil
}

// pageFile is an open bbolt file, read through the meta page bbolt would
// use: the valid one with the higher transaction id.
type pageFile struct {
	r    io.ReaderAt
	size int64
	ps   uint64
	meta boltMeta
}

func readPageFile(r io.ReaderAt, size int64) (*pageFile, error) {
	if size == 0 {
		return nil, errors.New("the file is empty (0 bytes)")
	}
	read := func(off int64) []byte {
		b := make([]byte, pageHeaderSize+metaSize)
		if n, _ := r.ReadAt(b, off); n < len(b) {
			return nil
		}
		return b
	}
	m0, err0 := parseMeta(read(0))
	ps := int64(os.Getpagesize())
	if err0 == nil {
		ps = int64(m0.pageSize)
	}
	if ps < 512 || ps > 1<<20 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("meta page 0: page size %d is not a power of two between 512 and 1 MiB", ps)
	}
	m1, err1 := parseMeta(read(ps))
	var m boltMeta
	switch {
	case err0 != nil && err1 != nil:
		return nil, fmt.Errorf("no valid meta page: page 0: %v; page 1: %v", err0, err1)
	case err1 != nil || (err0 == nil && m0.txid >= m1.txid):
		m = m0
	default:
		m = m1
	}
	if int64(m.pageSize) != ps {
		return nil, fmt.Errorf("meta pages disagree on the page size (%d, %d)", ps, m.pageSize)
	}
	if size < 2*ps {
		return nil, fmt.Errorf("the file (%d bytes) is shorter than its two meta pages", size)
	}
	return &pageFile{r: r, size: size, ps: uint64(ps), meta: m}, nil
}

// page is one page read from the file, its overflow pages included.
type page struct {
	id    uint64
	flags uint16
	count uint16
	buf   []byte // the header and everything after it
	span  uint64 // pages it occupies
}

func parsePageHeader(b []byte) (id uint64, flags, count uint16, overflow uint32) {
	return ne.Uint64(b[0:]), ne.Uint16(b[8:]), ne.Uint16(b[10:]), ne.Uint32(b[12:])
}

// page reads page id: it must lie below the high-water mark and inside the
// file, and say that it is page id.
func (f *pageFile) page(id uint64) (*page, error) {
	if id < 2 {
		return nil, fmt.Errorf("page %d: a reference to a meta page", id)
	}
	if id >= f.meta.hwm {
		return nil, fmt.Errorf("page %d: beyond the high-water mark (%d pages)", id, f.meta.hwm)
	}
	inFile := uint64(f.size) / f.ps
	if id >= inFile {
		return nil, fmt.Errorf("page %d: beyond the end of the file (%d bytes, %d pages)", id, f.size, inFile)
	}
	hdr := make([]byte, pageHeaderSize)
	if _, err := f.r.ReadAt(hdr, int64(id*f.ps)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	hid, flags, count, overflow := parsePageHeader(hdr)
	if hid != id {
		return nil, fmt.Errorf("page %d: its header says page %d", id, hid)
	}
	span := 1 + uint64(overflow)
	if span > f.meta.hwm-id {
		return nil, fmt.Errorf("page %d: %d overflow pages reach beyond the high-water mark (%d pages)", id, overflow, f.meta.hwm)
	}
	if span > inFile-id {
		return nil, fmt.Errorf("page %d: %d overflow pages reach beyond the end of the file (%d bytes)", id, overflow, f.size)
	}
	buf := make([]byte, span*f.ps)
	if _, err := f.r.ReadAt(buf, int64(id*f.ps)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return &page{id: id, flags: flags, count: count, buf: buf, span: span}, nil
}

// elem is an element of a branch page (key, child) or a leaf page (key,
// value, flags).
type elem struct {
	flags uint32
	key   []byte
	value []byte
	child uint64
}

// elems decodes the page's elements. An element that points outside the
// page or has no key is left out and reported, the others are returned:
// one damaged element of a branch page costs its subtree, not its
// siblings'.
func (p *page) elems() ([]elem, []error) {
	if p.flags != flagBranch && p.flags != flagLeaf {
		return nil, []error{fmt.Errorf("page %d: not a branch or leaf page (flags %#x)", p.id, p.flags)}
	}
	n := uint64(len(p.buf))
	count := uint64(p.count)
	var bad []error
	if fit := (n - pageHeaderSize) / elemSize; count > fit {
		bad = append(bad, fmt.Errorf("page %d: %d elements do not fit in the page", p.id, count))
		count = fit
	}
	out := make([]elem, 0, count)
	for i := range count {
		off := pageHeaderSize + i*elemSize
		e := p.buf[off : off+elemSize]
		var el elem
		var pos, ksize, vsize uint64
		if p.flags == flagBranch {
			pos, ksize = uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:]))
			el.child = ne.Uint64(e[8:])
		} else {
			el.flags = ne.Uint32(e[0:])
			pos, ksize, vsize = uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
		}
		start := off + pos
		switch {
		case start+ksize+vsize > n:
			bad = append(bad, fmt.Errorf("page %d: element %d points outside the page", p.id, i))
			continue
		case ksize == 0:
			bad = append(bad, fmt.Errorf("page %d: element %d has an empty key", p.id, i))
			continue
		}
		el.key = p.buf[start : start+ksize]
		el.value = p.buf[start+ksize : start+ksize+vsize]
		out = append(out, el)
	}
	return out, bad
}

// walker goes through the buckets of a file from its root, reading every
// page it can and noting every one it cannot; a damaged page costs the
// subtree under it, nothing else.
type walker struct {
	f        *pageFile
	seen     map[uint64]bool
	problems []string
	// entry is called with each key and value of a bucket (path: the
	// bucket names from the root), bucket when a bucket begins.
	entry  func(path []string, k, v []byte)
	bucket func(path []string)
}

func (w *walker) problem(path []string, err error) {
	where := "root"
	if len(path) > 0 {
		where = "bucket " + strings.Join(path, "/")
	}
	w.problems = append(w.problems, fmt.Sprintf("%s: %v", where, err))
}

func (w *walker) walk() {
	w.seen = map[uint64]bool{}
	w.tree(nil, w.f.meta.root, 0)
}

// tree walks the pages of the bucket at path from page id.
func (w *walker) tree(path []string, id uint64, depth int) {
	if depth > maxTreeDepth {
		w.problem(path, fmt.Errorf("page %d: the tree is deeper than %d levels", id, maxTreeDepth))
		return
	}
	if w.seen[id] {
		w.problem(path, fmt.Errorf("page %d: referenced more than once", id))
		return
	}
	p, err := w.f.page(id)
	if err != nil {
		w.problem(path, err)
		return
	}
	for i := range p.span {
		w.seen[id+i] = true
	}
	es, bad := p.elems()
	for _, err := range bad {
		w.problem(path, err)
	}
	if p.flags == flagBranch {
		for _, e := range es {
			w.tree(path, e.child, depth+1)
		}
		return
	}
	w.leaf(path, es, depth)
}

func (w *walker) leaf(path []string, es []elem, depth int) {
	for _, e := range es {
		if e.flags&bucketLeafFlag == 0 {
			if len(path) == 0 {
				w.problem(path, fmt.Errorf("key %q outside any bucket", e.key))
				continue
			}
			if w.entry != nil {
				w.entry(path, e.key, e.value)
			}
			continue
		}
		sub := append(slicesClip(path), string(e.key))
		if len(e.value) < bucketHeaderSize {
			w.problem(sub, errors.New("bucket header too short"))
			continue
		}
		if w.bucket != nil {
			w.bucket(sub)
		}
		root := ne.Uint64(e.value)
		if root != 0 {
			w.tree(sub, root, depth+1)
			continue
		}
		// An inline bucket: a leaf page inside the value.
		buf := e.value[bucketHeaderSize:]
		if len(buf) < pageHeaderSize {
			w.problem(sub, errors.New("inline bucket too short"))
			continue
		}
		_, flags, count, _ := parsePageHeader(buf)
		if flags != flagLeaf {
			w.problem(sub, fmt.Errorf("inline bucket is not a leaf page (flags %#x)", flags))
			continue
		}
		ies, bad := (&page{flags: flags, count: count, buf: buf}).elems()
		for _, err := range bad {
			w.problem(sub, fmt.Errorf("inline bucket: %w", err))
		}
		for _, ie := range ies {
			if ie.flags&bucketLeafFlag != 0 {
				w.problem(sub, fmt.Errorf("inline bucket holds a bucket %q", ie.key))
				continue
			}
			if w.entry != nil {
				w.entry(sub, ie.key, ie.value)
			}
		}
	}
}

// slicesClip returns s with no spare capacity, so that appending to it
// copies: a walk keeps each bucket's path apart.
func slicesClip(s []string) []string { return s[:len(s):len(s)] }

// freelist reads the free pages and checks them against the walk: every id
// below the high-water mark, none twice, none in use.
func (w *walker) freelist() {
	fl := w.f.meta.freelist
	if fl == noFreelist {
		return
	}
	p, err := w.f.page(fl)
	if err != nil {
		w.problems = append(w.problems, fmt.Sprintf("freelist: %v", err))
		return
	}
	if p.flags != flagFreelist {
		w.problems = append(w.problems, fmt.Sprintf("freelist: page %d is not a freelist page (flags %#x)", fl, p.flags))
		return
	}
	for i := range p.span {
		if w.seen[fl+i] {
			w.problems = append(w.problems, fmt.Sprintf("freelist: page %d is also in a bucket", fl+i))
		}
		w.seen[fl+i] = true
	}
	idx, count := uint64(0), uint64(p.count)
	if count == 0xFFFF {
		if len(p.buf) < pageHeaderSize+8 {
			w.problems = append(w.problems, "freelist: page too short for its count")
			return
		}
		idx, count = 1, ne.Uint64(p.buf[pageHeaderSize:])
	}
	if count > (uint64(len(p.buf))-pageHeaderSize)/8-idx {
		w.problems = append(w.problems, fmt.Sprintf("freelist: %d ids do not fit in page %d", count, fl))
		return
	}
	free := make(map[uint64]bool, count)
	for i := range count {
		id := ne.Uint64(p.buf[pageHeaderSize+(idx+i)*8:])
		switch {
		case id < 2 || id >= w.f.meta.hwm:
			w.problems = append(w.problems, fmt.Sprintf("freelist: page %d out of range [2, %d)", id, w.f.meta.hwm))
		case free[id]:
			w.problems = append(w.problems, fmt.Sprintf("freelist: page %d freed twice", id))
		case w.seen[id]:
			w.problems = append(w.problems, fmt.Sprintf("freelist: page %d is free and in use", id))
		}
		free[id] = true
	}
}

// inspect walks the whole file for Check: its problems, and the count of
// records per bucket.
func inspect(f *pageFile) (problems []string, entries map[string]int) {
	entries = map[string]int{}
	w := &walker{f: f, bucket: func(path []string) { entries[strings.Join(path, "/")] += 0 }}
	// A record that does not decode is damage too: the remediator could
	// not recover or list its incidents. Salvage leaves such records out.
	w.entry = func(path []string, k, v []byte) {
		entries[strings.Join(path, "/")]++
		if !sound(path, k, v) {
			w.problem(path, fmt.Errorf("record %q does not decode", k))
		}
	}
	if f.meta.root >= f.meta.hwm {
		return []string{fmt.Sprintf("meta: root page %d beyond the high-water mark %d", f.meta.root, f.meta.hwm)}, entries
	}
	if want := f.meta.hwm * f.ps; uint64(f.size) < want {
		w.problems = append(w.problems, fmt.Sprintf("the file is %d bytes, shorter than the %d its %d pages need: truncated", f.size, want, f.meta.hwm))
	}
	w.walk()
	w.freelist()
	return w.problems, entries
}

// sortedKeys lists a map's keys in order, for stable reports.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
