package pgdb

import (
	"errors"
	"net/url"
	"regexp"
)

// RedactURL hides the password of a connection URL so it can be logged.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return passwordParam.ReplaceAllString(raw, "${1}xxxxx")
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

var passwordParam = regexp.MustCompile(`(?i)(password\s*=\s*)\S+`)

// Redact returns err with any password that a DSN parse error may echo
// replaced; pgconn already redacts most, this covers keyword/value DSNs.
func Redact(err error) error {
	if err == nil {
		return nil
	}
	msg := passwordParam.ReplaceAllString(err.Error(), "${1}xxxxx")
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
