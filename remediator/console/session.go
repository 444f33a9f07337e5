package console

import (
	"crypto/rand"
	"sync"
	"time"
)

// session is one browser's: a random id (the cookie), the CSRF token of its
// forms and, with bearer authentication, the token it signed in with,
// checked against the live token on every request so that rotating the
// token file (and a reload) signs every browser out. Sessions live in
// memory: a restart of the remediator signs everyone out.
type session struct {
	id      string
	csrf    string
	token   string
	expires time.Time
}

// maxSessions bounds the store; the oldest go first.
const maxSessions = 1024

type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]*session
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, m: map[string]*session{}}
}

func (ss *sessions) create(token string) *session {
	s := &session{id: rand.Text(), csrf: rand.Text(), token: token, expires: time.Now().Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		var oldest *session
		for id, o := range ss.m {
			if time.Now().After(o.expires) {
				delete(ss.m, id)
			} else if oldest == nil || o.expires.Before(oldest.expires) {
				oldest = o
			}
		}
		if len(ss.m) >= maxSessions && oldest != nil {
			delete(ss.m, oldest.id)
		}
	}
	ss.m[s.id] = s
	return s
}

// get returns the live session with this id, or nil.
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if time.Now().After(s.expires) {
		delete(ss.m, id)
		return nil
	}
	return s
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}
