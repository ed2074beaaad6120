package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Message is the Spanish explanation of a status.
func Message(status string) string {
	return connectors.StatusMessage(connectors.Status(status))
}

// classify maps an error of reaching a PostgreSQL server to a status: the
// server's own codes first, then the network's (connectors.Classify).
func classify(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgdb.InvalidPassword, pgdb.InvalidAuthSpec:
			return StatusAuth
		case pgdb.InsufficientPriv:
			return StatusPermission
		case pgdb.UndefinedTable, "3D000":
			return StatusMissing
		}
		return StatusError
	}
	return string(connectors.Classify(err))
}

// failed is the result of a check that failed with err.
func failed(err error, start time.Time) Result {
	st := classify(err)
	msg := Message(st)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && st != StatusAuth {
		msg += ": " + pgErr.Message // the server's words; never a password
	}
	return Result{Status: st, Latency: time.Since(start), Message: msg}
}

// ProbeRole logs in as an entity's role on the server and database of base
// and checks that each of its tables exists and allows SELECT, INSERT,
// UPDATE and DELETE.
func ProbeRole(ctx context.Context, base *pgx.ConnConfig, cred access.Credentials) Result {
	start := time.Now()
	cfg := base.Copy()
	cfg.User, cfg.Password = cred.Role, cred.Password
	cfg.RuntimeParams = map[string]string{"application_name": "gobdatos-check"}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return failed(err, start)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `
		SELECT t, to_regclass(format('%I.%I', $2::text, t)) IS NOT NULL AS present
		FROM unnest($1::text[]) AS t`, cred.Tables, access.Schema)
	if err != nil {
		return failed(err, start)
	}
	var missing []string
	var present []string
	for rows.Next() {
		var t string
		var ok bool
		if err := rows.Scan(&t, &ok); err != nil {
			return failed(err, start)
		}
		if ok {
			present = append(present, t)
		} else {
			missing = append(missing, access.Schema+"."+t)
		}
	}
	if err := rows.Err(); err != nil {
		return failed(err, start)
	}
	if len(missing) > 0 {
		return Result{Status: StatusMissing, Latency: time.Since(start),
			Message: Message(StatusMissing) + ": " + strings.Join(missing, ", ")}
	}
	var lacking []string
	for _, t := range present {
		q := pgdb.QuoteQualified(access.Schema, t)
		var sel, ins, upd, del bool
		if err := conn.QueryRow(ctx, `SELECT has_table_privilege($1, 'SELECT'), has_table_privilege($1, 'INSERT'),
			has_table_privilege($1, 'UPDATE'), has_table_privilege($1, 'DELETE')`, q).Scan(&sel, &ins, &upd, &del); err != nil {
			return failed(err, start)
		}
		if !(sel && ins && upd && del) {
			lacking = append(lacking, access.Schema+"."+t)
			continue
		}
		if _, err := conn.Exec(ctx, "SELECT * FROM "+q+" LIMIT 0"); err != nil {
			return failed(err, start)
		}
	}
	if len(lacking) > 0 {
		return Result{Status: StatusPermission, Latency: time.Since(start),
			Message: fmt.Sprintf("%s: %s", Message(StatusPermission), strings.Join(lacking, ", "))}
	}
	return Result{Status: StatusOK, Latency: time.Since(start), Message: Message(StatusOK)}
}
