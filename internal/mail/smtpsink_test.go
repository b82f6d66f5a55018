package mail

import (
	"bufio"
	"bytes"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// smtpSink is a minimal but real SMTP server (RFC 5321 commands over TCP, dot-stuffed DATA)
// that counts and drops what it receives. It measures the worker's own throughput when MailDev
// is the bottleneck; it is not a mock of our code: go-mail talks to it over a socket.
type smtpSink struct {
	Addr     string
	received atomic.Int64
	delay    atomic.Int64           // nanoseconds to wait before accepting each message
	rcptCode atomic.Pointer[string] // when set, the reply to RCPT (e.g. "451 try later")
	before   func()                 // when set, called before each message is accepted
	mu       sync.Mutex
	last     []byte         // the last message, headers and body
	ids      map[string]int // Message-ID → times received
	ln       net.Listener
}

func startSMTPSink(t testing.TB) *smtpSink {
	t.Helper()
	return startSMTPSinkOn(t, "127.0.0.1:0")
}

// startSMTPSinkOn listens on addr (host:port; port 0 for any).
func startSMTPSinkOn(t testing.TB, addr string) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{Addr: ln.Addr().String(), ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	w := bufio.NewWriter(c)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	if !reply("220 sink ready") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
		switch verb {
		case "EHLO":
			reply("250-sink", "250-8BITMIME", "250 SMTPUTF8")
		case "RCPT":
			if code := s.rcptCode.Load(); code != nil {
				reply(*code)
			} else {
				reply("250 ok")
			}
		case "HELO", "MAIL", "RSET", "NOOP":
			reply("250 ok")
		case "DATA":
			reply("354 go on")
			msg, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.last = msg
			if s.ids == nil {
				s.ids = map[string]int{}
			}
			if m, err := netmail.ReadMessage(bytes.NewReader(msg)); err == nil {
				s.ids[m.Header.Get("Message-ID")]++
			}
			s.mu.Unlock()
			time.Sleep(time.Duration(s.delay.Load()))
			if s.before != nil {
				s.before()
			}
			s.received.Add(1)
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}
