package registry

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/file"
	conhttp "github.com/dgtit-gto/gobdatos/connectors/http"
	"github.com/dgtit-gto/gobdatos/connectors/mysql"
	"github.com/dgtit-gto/gobdatos/connectors/postgres"
)

// Source builds the connectors.Source a record describes, with its
// credentials, for a load. The connector's options (format, encoding,
// delimiter, header, columns…) are the defaults its checks read with.
func (c Connector) Source(cred Credentials) (connectors.Source, error) {
	return c.source(cred, false)
}

// CheckSource is Source for a connectivity check: no retries, so a dead
// endpoint is classified (refused, dns…) at once rather than timing out.
func (c Connector) CheckSource(cred Credentials) (connectors.Source, error) {
	return c.source(cred, true)
}

func (c Connector) source(cred Credentials, check bool) (connectors.Source, error) {
	var opt connectors.Options
	if len(c.Options) > 0 {
		if err := json.Unmarshal(c.Options, &opt); err != nil {
			return nil, fmt.Errorf("las opciones del conector %d no son válidas: %w", c.ID, err)
		}
	}
	switch c.Kind {
	case "http":
		src := conhttp.Source{URL: c.Address, Token: cred.Token, Username: cred.User, Password: cred.Password, Options: opt}
		if check {
			src.RetryMax, src.Timeout = -1, c.CheckTimeout.Duration()
		}
		return src, nil
	case "file":
		return file.Source{Path: c.Address, Options: opt}, nil
	case "postgres":
		src := postgres.Source{URL: c.Address, User: cred.User, Password: cred.Password}
		if IsQuery(c.Object) {
			src.Query = c.Object
		} else {
			src.Table = c.Object
		}
		if check {
			src.Timeout = c.CheckTimeout.Duration()
		}
		return src, nil
	case "mysql":
		dsn, err := mysqlDSN(c.Address)
		if err != nil {
			return nil, err
		}
		src := mysql.Source{DSN: dsn, User: cred.User, Password: cred.Password}
		if IsQuery(c.Object) {
			src.Query = c.Object
		} else {
			src.Table = c.Object
		}
		if check {
			src.Timeout = c.CheckTimeout.Duration()
		}
		return src, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrKindUnavailable, c.Kind)
}

// mysqlDSN turns mysql://host[:port]/database[?params] into the driver's
// tcp(host:port)/database[?params].
func mysqlDSN(address string) (string, error) {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("la dirección MySQL «%s» no es válida", address)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "3306")
	}
	dsn := "tcp(" + host + ")/" + strings.TrimPrefix(u.Path, "/")
	if u.RawQuery != "" {
		dsn += "?" + u.RawQuery
	}
	return dsn, nil
}

// IsQuery reports whether a connector's object is a query rather than a
// table name.
func IsQuery(object string) bool {
	f := strings.Fields(strings.ToLower(object))
	return len(f) > 0 && (f[0] == "select" || f[0] == "with" || f[0] == "values" || f[0] == "table")
}

// ErrKindUnavailable means this build cannot reach connectors of a kind yet.
var ErrKindUnavailable = fmt.Errorf("este tipo de conector todavía no puede conectarse")
