package redact

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "rtsp://cam.local:554/stream1", "rtsp://cam.local:554/stream1"},
		{"parameters in the path", "rtsp://h:554/user=admin&password=Hunter2pw&channel=1&stream=0.sdp", "rtsp://h:554/user=REDACTED&password=REDACTED&channel=1&stream=0.sdp"},
		{"parameter after a semicolon in the path", "rtsp://h/cam/realmonitor;password=Hunter2pw", "rtsp://h/cam/realmonitor;password=REDACTED"},
		{"userinfo", "rtsp://admin:hunter22@cam.local/live", "rtsp://cam.local/live"},
		{"user only", "mqtt://bob@broker:1883", "mqtt://broker:1883"},
		{"at in password", "nats://u:p@ss@nats:4222", "nats://nats:4222"},
		{"access_token", "https://hook.example/x?access_token=abc123&team=ops", "https://hook.example/x?access_token=REDACTED&team=ops"},
		{"api_key upper", "https://h/x?API_KEY=abc&Api-Key=def&apiKey=ghi", "https://h/x?API_KEY=REDACTED&Api-Key=REDACTED&apiKey=REDACTED"},
		{"key sig signature", "https://h/?key=1&sig=2&signature=3&keyframe=4", "https://h/?key=REDACTED&sig=REDACTED&signature=REDACTED&keyframe=4"},
		{"passwords", "http://h/?password=a&passwd=b&pass=c&pwd=d&user=e", "http://h/?password=REDACTED&passwd=REDACTED&pass=REDACTED&pwd=REDACTED&user=REDACTED"},
		{"auth", "http://h/?auth=a&Authorization=b&oauth_token=c", "http://h/?auth=REDACTED&Authorization=REDACTED&oauth_token=REDACTED"},
		{"aws presigned", "https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ff&X-Amz-Security-Token=t",
			"https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED"},
		{"client_secret", "https://h/?client_id=app&client_secret=s", "https://h/?client_id=app&client_secret=REDACTED"},
		{"escaped name", "https://h/?%74oken=s&a=b", "https://h/?%74oken=REDACTED&a=b"},
		{"value with equals", "https://h/?token=YWJj==&x=1", "https://h/?token=REDACTED&x=1"},
		{"semicolon", "https://h/?a=1;token=s", "https://h/?a=1;token=REDACTED"},
		{"order kept", "http://h/?z=1&token=s&a=2", "http://h/?z=1&token=REDACTED&a=2"},
		{"bare name", "http://h/?token", "http://h/?token"},
		{"fragment", "https://h/cb#access_token=s&state=x", "https://h/cb#access_token=REDACTED&state=x"},
		{"unparsable port", "http://admin:pw123@cam:port/x?token=s", "http://cam:port/x?token=REDACTED"},
		{"unparsable control", "http://admin:pw123@cam/x\n?sig=s", "http://cam/x\n?sig=REDACTED"},
		{"slash in password", "rtsp://admin:ab/cd@cam/x", "rtsp://cam/x"},
		{"no scheme", "admin:pw123@cam:554/x", "cam:554/x"},
		{"opaque", "user:pass@host", "host"},
		{"empty", "", ""},
		{"slack", "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/aBcDeFgHiJkLmNoPqRsTuVwX",
			"https://hooks.slack.com/services/REDACTED/REDACTED/REDACTED"},
		{"discord", "https://discord.com/api/webhooks/1234567890123456789/Ab-Cd_Ef12Gh34Ij56Kl78Mn90Op12Qr34St56Uv78Wx90Yz12",
			"https://discord.com/api/webhooks/REDACTED/REDACTED"},
		{"teams", "https://contoso.webhook.office.com/webhookb2/1f0c2a4e-6b8d-4e2f-9a1b-3c5d7e9f1a2b@72f988bf/IncomingWebhook/9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3/2d4e6f80",
			"https://contoso.webhook.office.com/webhookb2/REDACTED/REDACTED/REDACTED/REDACTED"},
		{"mattermost", "https://chat.example/hooks/xdf3k9q8wz7nbm4yr1o2p5tgea", "https://chat.example/hooks/REDACTED"},
		{"generic token", "https://ioc.example/v1/ingest/9fK2mQ7xL4pR8tW1zB6n?camera=3", "https://ioc.example/v1/ingest/REDACTED?camera=3"},
		{"hex digest", "https://ioc.example/in/3f9a0c1e5b7d9f2a4c6e8b0d1f3a5c7e", "https://ioc.example/in/REDACTED"},
		{"token first", "https://webhook.site/0e5a2f14-7c3b-4d9e-8a61-2b7f9c4d1e08", "https://webhook.site/REDACTED"},
		{"escaped token", "https://h/services/T0%2FB0/x", "https://h/services/REDACTED/REDACTED"},
		{"unparsable slack", "https://u:p@hooks.slack.com:x/services/T0123/B0456/aBcDeFgHiJkL", "https://hooks.slack.com:x/services/REDACTED/REDACTED/REDACTED"},
		{"camera paths kept", "rtsp://cam/Streaming/Channels/101?transportmode=unicast", "rtsp://cam/Streaming/Channels/101?transportmode=unicast"},
		{"camera paths kept 2", "rtsp://cam:554/cam/realmonitor?channel=1&subtype=0", "rtsp://cam:554/cam/realmonitor?channel=1&subtype=0"},
		{"words kept", "https://ioc.example/api/v2/incidents/camera_front_door_2", "https://ioc.example/api/v2/incidents/camera_front_door_2"},
		{"date kept", "https://ioc.example/api/2024-01-01T00:00:00Z", "https://ioc.example/api/2024-01-01T00:00:00Z"},
		{"camera", "rtsp://admin:hunter2@10.0.0.5:554/stream1", "rtsp://10.0.0.5:554/stream1"},
		{"camera user only", "rtsps://user@cam/x", "rtsps://cam/x"},
		{"camera password parameter", "rtsp://cam/x?channel=1&password=hunter2", "rtsp://cam/x?channel=1&password=REDACTED"},
		{"camera userinfo and token", "rtsp://admin:hunter2@cam/x?token=t0k", "rtsp://cam/x?token=REDACTED"},
		{"not a URL, no secret", "::not a url", "::not a url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Errorf("URL(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"token": true, "access_token": true, "api_key": true, "apikey": true, "APIKEY": true, "key": true, "sig": true,
		"signature": true, "secret": true, "password": true, "passwd": true, "pass": true, "auth": true,
		"authorization": true, "credential": true, "X-Amz-Signature": true, "x-api-key": true, "sessionToken": true,
		"channel": false, "subtype": false, "keyframe": false, "monkey": false, "camera": false, "resolution": false, "fps": false,
	} {
		if got := SecretName(name); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzURL checks that no credential an independent parser (net/url) finds
// in the input survives redaction, and that nothing panics. (Redaction is
// not idempotent: net/url normalizes, "A://" becomes "a:".)
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"rtsp://admin:hunter22@cam.local:554/live?channel=1&subtype=0",
		"https://hooks.example/v1?access_token=abc123&api_key=k9k9",
		"nats://user:p@ss@nats:4222",
		"http://admin:pw123@cam:port/x?token=s",
		"user:pass@host",
		"https://h/cb#access_token=s3cret&state=x",
		"https://b/o?X-Amz-Credential=AKIA&X-Amz-Signature=ffff",
		"https://hooks.slack.com/services/T0123ABCD/B0456EFGH/aBcDeFgHiJkLmNoPqRsTuVwX",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := URL(raw)
		leaks := func(secret, where string) {
			if len(secret) < 4 || strings.Contains(Mask, secret) {
				return
			}
			// Only a secret that appears once in the input can be blamed.
			if strings.Count(raw, secret) != 1 {
				return
			}
			if strings.Contains(out, secret) {
				t.Fatalf("%s %q leaks: %q -> %q", where, secret, raw, out)
			}
		}
		u, err := url.Parse(raw)
		if err != nil {
			// The text before the last @ of the authority is user info.
			head := raw
			if i := strings.IndexAny(raw, "?#"); i >= 0 {
				head = raw[:i]
			}
			if i := strings.Index(head, "://"); i >= 0 {
				if at := strings.LastIndex(head, "@"); at > i+3 {
					leaks(head[i+3:at], "user info")
				}
			}
			return
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				leaks(p, "password")
				leaks(url.PathEscape(p), "password")
			}
		}
		for _, part := range []string{u.RawQuery, u.EscapedFragment()} {
			for _, kv := range strings.FieldsFunc(part, func(r rune) bool { return r == '&' || r == ';' }) {
				name, v, ok := strings.Cut(kv, "=")
				if n, err := url.QueryUnescape(name); err == nil {
					name = n
				}
				if ok && SecretName(name) {
					leaks(v, "value of "+name)
				}
			}
		}
	})
}

// TestText: a client library's message quoting a configured URL or a
// password is made safe to log.
func TestText(t *testing.T) {
	msg := `dial nats://u:pw9x@n1:4222: refused; auth "pw9x" failed at https://hooks.slack.com/services/T01/B02/aBcDeFgHiJkLmNoPqRsTuVwX`
	got := Text(msg, []string{"nats://u:pw9x@n1:4222", "https://hooks.slack.com/services/T01/B02/aBcDeFgHiJkLmNoPqRsTuVwX"}, "pw9x", "")
	want := `dial nats://n1:4222: refused; auth "REDACTED" failed at https://hooks.slack.com/services/REDACTED/REDACTED/REDACTED`
	if got != want {
		t.Errorf("Text\n got %q\nwant %q", got, want)
	}
}

// TestError: an error's message loses its secrets, and the error keeps its
// identity for errors.Is.
func TestError(t *testing.T) {
	base := errors.New("dial rtsp://admin:hunter2@cam/x: refused")
	err := Error(fmt.Errorf("describe: %w", base), []string{"rtsp://admin:hunter2@cam/x"}, "hunter2")
	if want := "describe: dial rtsp://cam/x: refused"; err.Error() != want {
		t.Errorf("Error: got %q, want %q", err, want)
	}
	if !errors.Is(err, base) {
		t.Error("redacted error lost its cause")
	}
	if again := Error(err, nil, "refused"); !errors.Is(again, base) || again.Error() != "describe: dial rtsp://cam/x: REDACTED" {
		t.Errorf("redacted twice: %q, cause kept %v", again, errors.Is(again, base))
	}
	if Error(nil, nil, "x") != nil {
		t.Error("nil error redacted to non-nil")
	}
	if Error(base, nil, "absent") != base {
		t.Error("an error without secrets is not returned as it is")
	}
}
