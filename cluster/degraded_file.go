package cluster

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// Who ends a cluster_degraded incident whose node dies (SIGKILL, power)
// while it is open: the node's next run, from Options.DegradedPath. No
// other node can: by the time a node is degraded its heartbeat has expired
// (both last lease_ttl after its last contact), so the others cannot tell
// a dead node from one cut off that still analyzes (ending its incident
// then would say it is fine while it is not), nor did the start reach them
// through NATS. The node writes the open incident to its file when it
// starts, again every lease_ttl while it lasts (the last moment it was
// known to run), and removes the file when it ends; a run that finds the
// file at Start ends the incident with its id (incident.EndID), as ended
// at that last moment. A node that never returns leaves it open (its
// VigilInstanceGone alert fires).

// degradedFile is what the file holds.
type degradedFile struct {
	WrittenAt time.Time         `json:"written_at"`
	Incident  incident.Incident `json:"incident"`
}

// saveDegraded writes the open cluster_degraded incident (the caller
// holds degMu).
func (n *Node) saveDegraded(inc incident.Incident, now time.Time) {
	if n.opts.DegradedPath == "" {
		return
	}
	b, _ := json.Marshal(degradedFile{WrittenAt: now.UTC(), Incident: inc}) //nolint:errchkjson // plain data
	tmp := n.opts.DegradedPath + ".tmp"
	err := os.WriteFile(tmp, b, 0o600)
	if err == nil {
		err = os.Rename(tmp, n.opts.DegradedPath)
	}
	if err != nil {
		n.m.errors.WithLabelValues("degraded_file").Inc()
		n.log.Error("open cluster_degraded incident not saved; a crash now leaves it open", "path", n.opts.DegradedPath, "error", err)
	}
	n.deg.savedAt = now
}

// dropDegraded removes the file (the incident ended).
func (n *Node) dropDegraded() {
	if n.opts.DegradedPath == "" {
		return
	}
	if err := os.Remove(n.opts.DegradedPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		n.m.errors.WithLabelValues("degraded_file").Inc()
		n.log.Error("saved cluster_degraded incident not removed", "path", n.opts.DegradedPath, "error", err)
	}
}

// endLeftDegraded ends the cluster_degraded incident a previous run left
// open (it died degraded), before this run can open one.
func (n *Node) endLeftDegraded() {
	if n.opts.DegradedPath == "" {
		return
	}
	b, err := os.ReadFile(n.opts.DegradedPath)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var f degradedFile
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil || f.Incident.IncidentID == "" || f.Incident.Kind != KindClusterDegraded {
		n.m.errors.WithLabelValues("degraded_file").Inc()
		n.log.Error("saved cluster_degraded incident unreadable; removed", "path", n.opts.DegradedPath, "error", err)
		os.Remove(n.opts.DegradedPath) //nolint:errcheck // reported above
		return
	}
	inc, end := f.Incident, later(f.WrittenAt, f.Incident.StartedAt).UTC()
	inc.EndedAt, inc.FrameTime = &end, end
	n.log.Warn("cluster_degraded incident left open by the last run ended", "incident_id", inc.IncidentID, "ended_at", end)
	n.emitDegraded(incident.New(incident.TypeEnd, inc, time.Now()))
	n.dropDegraded()
}
