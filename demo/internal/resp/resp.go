// Package resp speaks just enough of Redis's RESP protocol for a readiness check: optional AUTH, then PING.
package resp

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// Ping connects to addr, authenticates when password is set, sends PING and expects +PONG.
func Ping(ctx context.Context, addr, password string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	defer c.Close()
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(3 * time.Second)
	}
	_ = c.SetDeadline(dl)
	r := bufio.NewReader(c)
	if password != "" {
		if err := command(c, r, "+OK", "AUTH", password); err != nil {
			return err
		}
	}
	return command(c, r, "+PONG", "PING")
}

// command writes args as a RESP array of bulk strings and compares the one-line reply with want.
func command(c net.Conn, r *bufio.Reader, want string, args ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line != want {
		// "-WRONGPASS invalid username-password pair", "-NOAUTH Authentication required." … pass through as Redis says it.
		return fmt.Errorf("redis %s: %s", args[0], strings.TrimPrefix(line, "-"))
	}
	return nil
}
