package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
)

// Login throttling: every value is here.
//
// Failures are counted per account and per client address, in a window of 15 minutes that
// starts at the first failure.
//
// Per account: username and email of one account are one counter ("account:" + its id; an
// unknown login gets a counter of its own, "account:?" + the login, so that locking tells
// nothing about which accounts exist). Each attempt is counted before its password is checked,
// in one statement, so that parallel attempts cannot slip past the limit (50 parallel wrong
// passwords check only 5). Reaching 5 locks the account for 60 seconds; each further failure
// while the count stands doubles the lock (2, 4, 8 minutes) up to 15 minutes. A successful
// login forgets the count; so does a completed password reset or account set-up, so a person
// locked out by someone guessing gets in through a reset link. At most about 100 guesses a
// day reach one account.
//
// Per address: behind a reverse proxy or a campus NAT, hundreds of people share one address,
// so the address is never locked and correct logins are never refused for volume. Failures
// from the address are counted once the password is found wrong; from 50 in the window on,
// every attempt from the address waits a growing delay before its password is checked
// (100 ms, doubling, at most 3 s): a person typing their password barely notices it, while a
// script trying one common password on many accounts from that address is slowed to a crawl.
// Someone failing on purpose at the address can therefore slow the others there by at most
// 3 seconds a login, never lock them out; the guesses an attacker gets per account stay
// bounded by the account counter wherever they come from.
var (
	loginRule = throttleRule{prefix: "account:", limit: 5, window: 15 * time.Minute}
	ipRule    = throttleRule{prefix: "ip:", limit: 50, window: 15 * time.Minute}
)

const (
	baseLock = time.Minute
	maxLock  = 15 * time.Minute

	baseAddressDelay = 100 * time.Millisecond
	maxAddressDelay  = 3 * time.Second
)

// addressDelay is the wait before checking a password from an address that has failed
// failures times in the window: none up to the limit, then 100 ms, doubling with each
// further failure, at most 3 s.
func addressDelay(failures int) time.Duration {
	over := failures - ipRule.limit
	if over < 0 {
		return 0
	}
	return min(maxAddressDelay, baseAddressDelay<<min(over, 10))
}

// throttleRule counts failures under keys with one prefix.
type throttleRule struct {
	prefix string
	limit  int
	window time.Duration
}

// reserveSQL counts an attempt before its password is checked, in one statement, so that
// parallel attempts cannot all slip in under the limit: each one increments the row in turn,
// and once the limit is reached the lock is set by the same statement. While the key is
// locked the DO UPDATE's WHERE does not match, nothing changes and no row is returned.
// $1 key, $2 now, $3 now minus the window.
func (r throttleRule) reserveSQL() string {
	const reset = `(login_throttle.window_start <= CAST($3 AS BIGINT) AND login_throttle.locked_until <= CAST($3 AS BIGINT))`
	var lock strings.Builder
	// Lock durations by how far past the limit the count is: 60 s, 120 s, ... up to maxLock.
	steps := 0
	for d := baseLock; d < maxLock; d *= 2 {
		steps++
	}
	fmt.Fprintf(&lock, "WHEN login_throttle.failures + 1 - %d >= %d THEN CAST($2 AS BIGINT) + %d ", r.limit, steps, int(maxLock.Seconds()))
	for i := steps - 1; i >= 0; i-- {
		d := baseLock << i
		fmt.Fprintf(&lock, "WHEN login_throttle.failures + 1 - %d >= %d THEN CAST($2 AS BIGINT) + %d ", r.limit, i, int(d.Seconds()))
	}
	return `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, 1, CAST($2 AS BIGINT), 0)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN ` + reset + ` THEN 1 ELSE login_throttle.failures + 1 END,
			window_start = CASE WHEN ` + reset + ` THEN CAST($2 AS BIGINT) ELSE login_throttle.window_start END,
			locked_until = CASE WHEN ` + reset + ` THEN 0 ` + lock.String() + `ELSE login_throttle.locked_until END
		WHERE login_throttle.locked_until <= CAST($2 AS BIGINT)
		RETURNING failures`
}

var reserveLogin = loginRule.reserveSQL()

// countIP counts one failure from an address, once its password was found wrong (the
// address is only ever slowed, never locked, so no count before the check is needed and a
// crowd of correct logins in flight does not look like failures). $1 key, $2 now, $3 now
// minus the window.
const countIP = `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, 1, CAST($2 AS BIGINT), 0)
	ON CONFLICT (key) DO UPDATE SET
		failures = CASE WHEN login_throttle.window_start <= CAST($3 AS BIGINT) THEN 1 ELSE login_throttle.failures + 1 END,
		window_start = CASE WHEN login_throttle.window_start <= CAST($3 AS BIGINT) THEN CAST($2 AS BIGINT) ELSE login_throttle.window_start END,
		locked_until = 0`

// addressFailed counts a failed login from ip (no address: nothing).
func (s *Service) addressFailed(ctx context.Context, ip string) error {
	if ip == "" {
		return nil
	}
	now := s.now()
	if _, err := s.db.ExecContext(ctx, countIP, ipRule.prefix+ip, now.Unix(), now.Add(-ipRule.window).Unix()); err != nil {
		return wrap(err, "throttle")
	}
	return nil
}

// slowAddress waits the delay that the failures from ip in the window call for.
func (s *Service) slowAddress(ctx context.Context, ip string) error {
	now := s.now()
	var failures int
	err := s.db.QueryRowContext(ctx, `SELECT failures FROM login_throttle WHERE key = $1 AND window_start > $2`,
		ipRule.prefix+ip, now.Add(-ipRule.window).Unix()).Scan(&failures)
	if err != nil && !store.IsNoRows(err) {
		return wrap(err, "throttle")
	}
	d := addressDelay(failures)
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errs.New(errs.Unavailable, "the request ended while waiting")
	}
}

// reserve counts one attempt under key. It returns nil when the attempt may check a
// password, or errs.TooMany with the seconds to wait.
func (s *Service) reserve(ctx context.Context, r throttleRule, query, key string) error {
	now := s.now()
	var failures int
	err := s.db.QueryRowContext(ctx, query, r.prefix+key, now.Unix(), now.Add(-r.window).Unix()).Scan(&failures)
	if err == nil {
		return nil
	}
	if !store.IsNoRows(err) {
		return wrap(err, "throttle")
	}
	// Locked. Read how long for the message only; the decision was made above.
	var until int64
	err = s.db.QueryRowContext(ctx, `SELECT locked_until FROM login_throttle WHERE key = $1`, r.prefix+key).Scan(&until)
	if err != nil && !store.IsNoRows(err) { // a row purged meanwhile: say 1 second
		return wrap(err, "throttle")
	}
	return tooMany(max(1, until-now.Unix()))
}

func tooMany(seconds int64) error {
	return &errs.Error{Code: errs.TooMany, RetryAfter: int(seconds),
		Message: fmt.Sprintf("Too many failed attempts. Try again in %d seconds.", seconds)}
}

// clearThrottle forgets the failures of a key, after a successful login.
func clearThrottle(ctx context.Context, q store.Querier, r throttleRule, key string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = $1`, r.prefix+key); err != nil {
		return wrap(err, "throttle clear")
	}
	return nil
}
