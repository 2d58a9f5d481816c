// Package pgwire is a minimal PostgreSQL frontend/backend protocol (v3) client: start-up, cleartext, MD5 and
// SCRAM-SHA-256 authentication, the simple query protocol and ErrorResponse fields. It exists so the demo
// needs no module downloads; its errors read like pgx's, which is what Kubernaut's services print.
package pgwire

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config names the server and the login.
type Config struct {
	Host, User, Password, Database string
	Port                           int
	ApplicationName                string
}

// PgError is a server ErrorResponse.
type PgError struct {
	Severity, Code, Message, Detail, Hint string
}

// Error reads like pgx's PgError: `FATAL: message (SQLSTATE 28P01)`.
func (e *PgError) Error() string { return e.Severity + ": " + e.Message + " (SQLSTATE " + e.Code + ")" }

// IsAuth tells whether err is an authentication or authorization failure (SQLSTATE class 28), which retrying cannot fix.
func IsAuth(err error) bool {
	var pe *PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "28")
}

// Result is what one simple Query returned: the columns and rows of the statements that had rows, and the last command tag.
type Result struct {
	Columns []string
	Rows    [][]*string
	Tag     string
}

// Conn is one connection; not safe for concurrent use.
type Conn struct {
	nc net.Conn
	r  *bufio.Reader
	// Params holds the server's ParameterStatus values (server_version, …).
	Params map[string]string
}

// Connect opens a connection and authenticates; errors read like pgx's connect errors.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	where := fmt.Sprintf("host=%s user=%s database=%s", cfg.Host, cfg.User, cfg.Database)
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("failed to connect to `%s`: dial error (%w)", where, err)
	}
	c := &Conn{nc: nc, r: bufio.NewReader(nc), Params: map[string]string{}}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	if step, err := c.startup(cfg); err != nil {
		nc.Close()
		if step != "" {
			return nil, fmt.Errorf("failed to connect to `%s`: %s (%w)", where, step, err)
		}
		return nil, fmt.Errorf("failed to connect to `%s`: %w", where, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

// startup sends the StartupMessage and runs authentication; step names the phase that failed, as pgx does.
func (c *Conn) startup(cfg Config) (step string, err error) {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, 196608) // protocol 3.0
	for _, kv := range [][2]string{{"user", cfg.User}, {"database", cfg.Database}, {"application_name", cfg.ApplicationName}, {"client_encoding", "UTF8"}} {
		if kv[1] != "" {
			b = append(append(append(append(b, kv[0]...), 0), kv[1]...), 0)
		}
	}
	b = append(b, 0)
	if err := c.send(0, b); err != nil {
		return "", err
	}
	var sc *scram
	for {
		typ, msg, err := c.recv()
		if err != nil {
			return "", err
		}
		switch typ {
		case 'R':
			if len(msg) < 4 {
				return "", errors.New("short authentication message")
			}
			code, body := binary.BigEndian.Uint32(msg), msg[4:]
			switch code {
			case 0: // AuthenticationOk
			case 3: // cleartext
				if err := c.send('p', append([]byte(cfg.Password), 0)); err != nil {
					return "", err
				}
				step = "failed cleartext auth"
			case 5: // MD5: "md5" + md5(md5(password + user) + salt)
				inner := md5.Sum([]byte(cfg.Password + cfg.User))
				outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), body...))
				if err := c.send('p', append([]byte("md5"+hex.EncodeToString(outer[:])), 0)); err != nil {
					return "", err
				}
				step = "failed MD5 auth"
			case 10: // SASL: the server lists mechanisms
				if !strings.Contains(string(body), "SCRAM-SHA-256\x00") {
					return "", fmt.Errorf("no supported SASL mechanism in %q", body)
				}
				nonce := make([]byte, 18)
				if _, err := rand.Read(nonce); err != nil {
					return "", err
				}
				// PostgreSQL takes the user from the start-up message, so the SCRAM user name is empty.
				sc = newScram("", cfg.Password, base64.RawStdEncoding.EncodeToString(nonce))
				first := sc.clientFirst()
				p := append([]byte("SCRAM-SHA-256"), 0)
				p = binary.BigEndian.AppendUint32(p, uint32(len(first)))
				if err := c.send('p', append(p, first...)); err != nil {
					return "", err
				}
				step = "failed SASL auth"
			case 11: // SASLContinue
				if sc == nil {
					return step, errors.New("unexpected SASLContinue")
				}
				final, err := sc.clientFinal(string(body))
				if err != nil {
					return step, err
				}
				if err := c.send('p', []byte(final)); err != nil {
					return step, err
				}
			case 12: // SASLFinal
				if sc == nil {
					return step, errors.New("unexpected SASLFinal")
				}
				if err := sc.verifyServerFinal(string(body)); err != nil {
					return step, err
				}
			default:
				return "", fmt.Errorf("unsupported authentication method %d", code)
			}
		case 'E':
			return step, parseError(msg)
		case 'S':
			if kv := strings.SplitN(string(msg), "\x00", 3); len(kv) >= 2 {
				c.Params[kv[0]] = kv[1]
			}
		case 'K', 'N':
		case 'Z':
			return "", nil
		default:
			return "", fmt.Errorf("unexpected message %q during start-up", typ)
		}
	}
}

// Query runs sql with the simple query protocol (several statements run as one implicit transaction).
func (c *Conn) Query(ctx context.Context, sql string) (*Result, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetDeadline(dl)
		defer c.nc.SetDeadline(time.Time{})
	}
	if err := c.send('Q', append([]byte(sql), 0)); err != nil {
		return nil, err
	}
	res := &Result{}
	var qerr error
	for {
		typ, msg, err := c.recv()
		if err != nil {
			return nil, err
		}
		switch typ {
		case 'T':
			res.Columns = res.Columns[:0]
			n := int(binary.BigEndian.Uint16(msg))
			p := msg[2:]
			for i := 0; i < n; i++ {
				end := strings.IndexByte(string(p), 0)
				if end < 0 || len(p) < end+19 {
					return nil, errors.New("malformed RowDescription")
				}
				res.Columns = append(res.Columns, string(p[:end]))
				p = p[end+19:]
			}
		case 'D':
			n := int(binary.BigEndian.Uint16(msg))
			p := msg[2:]
			row := make([]*string, n)
			for i := 0; i < n; i++ {
				l := int32(binary.BigEndian.Uint32(p))
				p = p[4:]
				if l >= 0 {
					v := string(p[:l])
					row[i] = &v
					p = p[l:]
				}
			}
			res.Rows = append(res.Rows, row)
		case 'C':
			res.Tag = strings.TrimRight(string(msg), "\x00")
		case 'E':
			qerr = parseError(msg)
		case 'I', 'N', 'S':
		case 'Z':
			if qerr != nil {
				return nil, qerr
			}
			return res, nil
		default:
			return nil, fmt.Errorf("unexpected message %q", typ)
		}
	}
}

// Close sends Terminate and closes the socket.
func (c *Conn) Close() error {
	_ = c.send('X', nil)
	return c.nc.Close()
}

// Literal quotes s as an SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1).
func Literal(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), "'", "''") + "'"
}

func (c *Conn) send(typ byte, body []byte) error {
	var b []byte
	if typ != 0 {
		b = append(b, typ)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)+4))
	_, err := c.nc.Write(append(b, body...))
	return err
}

func (c *Conn) recv() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[1:])) - 4
	if n < 0 || n > 64<<20 {
		return 0, nil, fmt.Errorf("bad message length %d", n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(c.r, msg); err != nil {
		return 0, nil, err
	}
	return hdr[0], msg, nil
}

func parseError(msg []byte) *PgError {
	e := &PgError{}
	for _, f := range strings.Split(string(msg), "\x00") {
		if f == "" {
			continue
		}
		v := f[1:]
		switch f[0] {
		case 'V':
			e.Severity = v
		case 'S':
			if e.Severity == "" {
				e.Severity = v
			}
		case 'C':
			e.Code = v
		case 'M':
			e.Message = v
		case 'D':
			e.Detail = v
		case 'H':
			e.Hint = v
		}
	}
	return e
}
