package sim

import (
	"strings"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// handler receives gortsplib's callbacks; it is unexported so that Server's
// method set stays the simulator API.
type handler struct{ s *Server }

func (h *handler) camera(path string) *camera {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.s.cams[strings.TrimPrefix(path, "/")]
}

func (h *handler) authorized(sc *gortsplib.ServerConn, req *base.Request) bool {
	return h.s.user == "" || sc.VerifyCredentials(req, h.s.user, h.s.pass)
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if !h.authorized(ctx.Conn, ctx.Request) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	cam := h.camera(ctx.Path)
	if cam == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	if cam.offerAudioOnly.Load() {
		return &base.Response{StatusCode: base.StatusOK}, cam.audioOnly, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, cam.stream, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if !h.authorized(ctx.Conn, ctx.Request) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	cam := h.camera(ctx.Path)
	if cam == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	h.s.mu.Lock()
	h.s.setups[ctx.Session] = cam
	h.s.mu.Unlock()
	cam.addSession(ctx.Session)
	return &base.Response{StatusCode: base.StatusOK}, cam.stream, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay. The session becomes a
// reader of its stream only after this returns, so the camera is activated
// in OnResponse, once the session can receive packets.
func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.s.mu.Lock()
	if cam := h.s.setups[ctx.Session]; cam != nil {
		h.s.pending[ctx.Conn] = pendingPlay{cam: cam, ss: ctx.Session}
	}
	h.s.mu.Unlock()
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnResponse implements gortsplib.ServerHandlerOnResponse.
func (h *handler) OnResponse(sc *gortsplib.ServerConn, res *base.Response) {
	h.s.mu.Lock()
	p, ok := h.s.pending[sc]
	if ok {
		delete(h.s.pending, sc)
	}
	h.s.mu.Unlock()
	if ok && res.StatusCode == base.StatusOK {
		p.cam.setActive(p.ss, true)
		h.s.log.Debug("reader_playing", "path", p.cam.path)
	}
}

// OnPause implements gortsplib.ServerHandlerOnPause.
func (h *handler) OnPause(ctx *gortsplib.ServerHandlerOnPauseCtx) (*base.Response, error) {
	h.s.mu.Lock()
	cam := h.s.setups[ctx.Session]
	h.s.mu.Unlock()
	if cam != nil {
		cam.setActive(ctx.Session, false)
	}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSessionClose implements gortsplib.ServerHandlerOnSessionClose.
func (h *handler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	h.s.mu.Lock()
	cam := h.s.setups[ctx.Session]
	delete(h.s.setups, ctx.Session)
	h.s.mu.Unlock()
	if cam != nil {
		cam.removeSession(ctx.Session)
		h.s.log.Debug("session_closed", "path", cam.path, "error", ctx.Error)
	}
}

// OnConnClose implements gortsplib.ServerHandlerOnConnClose.
func (h *handler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.s.mu.Lock()
	delete(h.s.pending, ctx.Conn)
	h.s.mu.Unlock()
}

// OnStreamWriteError implements gortsplib.ServerHandlerOnStreamWriteError
// (a slow reader's queue is full); without it gortsplib logs to stderr.
func (h *handler) OnStreamWriteError(ctx *gortsplib.ServerHandlerOnStreamWriteErrorCtx) {
	h.s.log.Debug("stream_write_error", "error", ctx.Error)
}
