// Package logger writes JSON lines in exactly the shape of zap's production encoder
// (zap.NewProduction: level, ts as epoch seconds, logger, caller, msg, fields, stacktrace on errors).
// It mimics zap instead of importing it because the demo must build with no module downloads,
// and kdoctor must see the same lines a real Kubernaut service prints.
package logger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Field is one key/value pair of a log line.
type Field struct {
	Key   string
	Value any
}

// String is a string field.
func String(k, v string) Field { return Field{k, v} }

// Int is an integer field.
func Int(k string, v int) Field { return Field{k, v} }

// Int64 is a 64-bit integer field.
func Int64(k string, v int64) Field { return Field{k, v} }

// Bool is a boolean field.
func Bool(k string, v bool) Field { return Field{k, v} }

// Duration is a duration field, encoded as seconds like zap's production config.
func Duration(k string, v time.Duration) Field { return Field{k, v} }

// Any is a field encoded with encoding/json.
func Any(k string, v any) Field { return Field{k, v} }

// Err is the "error" field.
func Err(err error) Field { return Field{"error", err} }

// Logger is a named, leveled JSON-lines logger.
type Logger struct {
	name   string
	out    io.Writer
	mu     *sync.Mutex
	fields []Field
	now    func() time.Time
	exit   func(int)
	debug  bool
}

// New returns a logger named name that writes to w (os.Stderr when nil), as zap's production logger does.
func New(name string, w io.Writer) *Logger {
	if w == nil {
		w = os.Stderr
	}
	return &Logger{name: name, out: w, mu: &sync.Mutex{}, now: time.Now, exit: os.Exit}
}

// Named returns a child logger whose name is joined with a dot, as zap's Named does.
func (l *Logger) Named(n string) *Logger {
	c := *l
	if c.name == "" {
		c.name = n
	} else {
		c.name += "." + n
	}
	return &c
}

// With returns a child logger that adds fields to every line.
func (l *Logger) With(f ...Field) *Logger {
	c := *l
	c.fields = append(append([]Field{}, l.fields...), f...)
	return &c
}

// SetDebug turns debug lines on or off (production default: off).
func (l *Logger) SetDebug(on bool) { l.debug = on }

// Debug logs at debug level when enabled.
func (l *Logger) Debug(msg string, f ...Field) {
	if l.debug {
		l.write("debug", msg, f)
	}
}

// Info logs at info level.
func (l *Logger) Info(msg string, f ...Field) { l.write("info", msg, f) }

// Warn logs at warn level.
func (l *Logger) Warn(msg string, f ...Field) { l.write("warn", msg, f) }

// Error logs at error level, with a stacktrace as zap's production config adds.
func (l *Logger) Error(msg string, f ...Field) { l.write("error", msg, f) }

// Fatal logs at fatal level and exits 1.
func (l *Logger) Fatal(msg string, f ...Field) {
	l.write("fatal", msg, f)
	l.exit(1)
}

func (l *Logger) write(level, msg string, f []Field) {
	var b bytes.Buffer
	b.WriteString(`{"level":"`)
	b.WriteString(level)
	b.WriteString(`","ts":`)
	t := l.now()
	b.WriteString(strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', -1, 64))
	if l.name != "" {
		b.WriteString(`,"logger":`)
		writeString(&b, l.name)
	}
	if _, file, line, ok := runtime.Caller(2); ok {
		b.WriteString(`,"caller":`)
		writeString(&b, shortCaller(file, line))
	}
	b.WriteString(`,"msg":`)
	writeString(&b, msg)
	for _, fl := range append(append([]Field{}, l.fields...), f...) {
		b.WriteByte(',')
		writeString(&b, fl.Key)
		b.WriteByte(':')
		writeValue(&b, fl.Value)
	}
	if level == "error" || level == "fatal" {
		b.WriteString(`,"stacktrace":`)
		writeString(&b, stacktrace(3))
	}
	b.WriteString("}\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.out.Write(b.Bytes())
}

// shortCaller is zap's ShortCallerEncoder: the last directory and the file, then the line.
func shortCaller(file string, line int) string {
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		if j := strings.LastIndexByte(file[:i], '/'); j >= 0 {
			file = file[j+1:]
		}
	}
	return file + ":" + strconv.Itoa(line)
}

// stacktrace formats the caller's stack as zap does: "function\n\tfile:line" per frame.
func stacktrace(skip int) string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(skip+1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var sb strings.Builder
	for {
		fr, more := frames.Next()
		if strings.HasPrefix(fr.Function, "runtime.") {
			break
		}
		if sb.Len() > 0 {
			sb.WriteByte('\n')
		}
		fmt.Fprintf(&sb, "%s\n\t%s:%d", fr.Function, fr.File, fr.Line)
		if !more {
			break
		}
	}
	return sb.String()
}

func writeValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeString(b, x)
	case error:
		writeString(b, x.Error())
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case time.Duration:
		b.WriteString(strconv.FormatFloat(x.Seconds(), 'f', -1, 64))
	case fmt.Stringer:
		writeString(b, x.String())
	default:
		j, err := json.Marshal(x)
		if err != nil {
			writeString(b, fmt.Sprint(x))
			return
		}
		b.Write(j)
	}
}

// writeString JSON-quotes s the way zap does (no HTML escaping, \u escapes for control bytes).
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				fmt.Fprintf(b, `\u%04x`, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
