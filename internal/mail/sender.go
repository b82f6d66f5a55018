package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultFrom is the sender when --mail-from is not set.
const DefaultFrom = "Roster <noreply@localhost>"

// Sender delivers messages to one SMTP server. It is safe for concurrent use: each Dial
// opens a connection of its own.
type Sender struct {
	client *gomail.Client
	from   *netmail.Address
	domain string // of the sender, for Message-IDs
	server string // the URL with the password masked, for logs
}

// NewSender reads the --smtp URL and the --mail-from address.
//
// smtpURL is smtp://[user:pass@]host[:port] (port 25 by default; STARTTLS is used when the
// server offers it, so a local MailDev without TLS works) or smtps://[user:pass@]host[:port]
// (implicit TLS, port 465 by default). Credentials are sent only over TLS or to localhost.
// from is "Name <addr>" or a bare address; empty means DefaultFrom.
func NewSender(smtpURL, from string) (*Sender, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		return nil, fmt.Errorf("mail: --smtp: %w", err)
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, fmt.Errorf("mail: --smtp %q: expected smtp://host:port or smtps://host:port", maskURL(u))
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("mail: --smtp %q: no host", maskURL(u))
	}
	port := 25
	if u.Scheme == "smtps" {
		port = 465
	}
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("mail: --smtp %q: bad port", maskURL(u))
		}
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTimeout(30 * time.Second),
		gomail.WithoutNoop(), // one NOOP per message would halve throughput; errors show at MAIL FROM
	}
	if u.Scheme == "smtps" {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if u.User != nil && u.User.Username() != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	client, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: --smtp %q: %w", maskURL(u), err)
	}
	if from == "" {
		from = DefaultFrom
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: --mail-from %q: %w", from, err)
	}
	return &Sender{
		client: client,
		from:   addr,
		domain: addr.Address[strings.LastIndexByte(addr.Address, '@')+1:],
		server: maskURL(u),
	}, nil
}

// String names the server, with any password masked.
func (s *Sender) String() string { return s.server }

// From is the sender address of every message.
func (s *Sender) From() string { return s.from.String() }

func maskURL(u *url.URL) string {
	c := *u
	if _, ok := c.User.Password(); ok {
		c.User = url.UserPassword(c.User.Username(), "xxxxx")
	}
	return c.String()
}

// outgoing is one claimed outbox row.
type outgoing struct {
	id        int64
	to, name  string
	subject   string
	text      string
	html      string
	attempts  int
	createdAt int64
	messageID string // given at the first claim (see Worker.claim)
}

// message builds the MIME message: multipart/alternative with the text then the HTML part,
// UTF-8, quoted-printable. The Message-ID is the one stored with the outbox row at its first
// claim, so a message sent again after a crash or a lost acknowledgement carries the same ID
// and can be recognised as a duplicate.
func (s *Sender) message(o outgoing, now time.Time) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	m.FromMailAddress(s.from)
	if err := m.AddToFormat(o.name, o.to); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", o.to, err)
	}
	m.Subject(o.subject)
	m.SetDateWithValue(now)
	id := o.messageID
	if id == "" {
		id = fmt.Sprintf("roster.%d.%d@%s", o.id, o.createdAt, s.domain)
	}
	m.SetMessageIDWithValue(id)
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetBodyString(gomail.TypeTextPlain, o.text)
	m.AddAlternativeString(gomail.TypeTextHTML, o.html)
	return m, nil
}

// result is what happened to one message of a batch.
type result struct {
	sent bool
	err  error // a *connError when the server, not the message, failed
}

// deliver sends the batch over one connection, in order, and hands each message's fate to
// done as soon as it is known, so that the caller records it before the next message goes.
// It stops between messages once ctx is done or done returns false; the messages left are
// not attempted (done is not called for them).
func (s *Sender) deliver(ctx context.Context, batch []outgoing, now time.Time, done func(i int, r result) bool) {
	conn, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		err = &connError{fmt.Errorf("connect to %s: %w", s.server, err)}
		for i := range batch {
			if !done(i, result{err: err}) {
				return
			}
		}
		return
	}
	defer func() { _ = s.client.CloseWithSMTPClient(conn) }()
	var broken error
	for i, o := range batch {
		if ctx.Err() != nil {
			return
		}
		var r result
		if broken != nil {
			r.err = broken
		} else if m, err := s.message(o, now); err != nil {
			r.err = err
		} else {
			err = s.client.SendWithSMTPClient(conn, m)
			switch {
			case err == nil || m.IsDelivered(): // accepted, even if the RSET after it failed
				r.sent = true
			case isConnError(err):
				// The connection is gone: the rest of the batch would fail the same way.
				broken = &connError{err}
				r.err = broken
			default:
				r.err = err
			}
		}
		if !done(i, r) {
			return
		}
	}
}

// connError is a failure of the SMTP server as a whole (unreachable, or the connection broke),
// as opposed to a refusal of one message. It says nothing about the message: the worker does
// not count it as an attempt and tries again soon.
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// isConnError tells a dead connection from a refusal of one message.
func isConnError(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.Reason == gomail.ErrConnCheck || se.Reason == gomail.ErrSMTPReset
	}
	return false
}
