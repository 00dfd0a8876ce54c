package engine

import (
	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/frigate"
)

// FrigateCameras returns every camera as the Frigate API's /api/config
// shows it, sorted by id (api.FrigateSource).
func (e *Engine) FrigateCameras() []api.FrigateCamera {
	cams := e.snapshot()
	out := make([]api.FrigateCamera, 0, len(cams))
	for _, c := range cams {
		fc := api.FrigateCamera{ID: c.id, Objects: []string{}, Zones: []string{}, MotionThreshold: c.cfg.Motion.Threshold}
		if c.cfg.Person.Enabled {
			fc.Objects = append(fc.Objects, frigate.LabelPerson)
		}
		if e.vehicles(c.cfg) {
			fc.Objects = append(fc.Objects, frigate.LabelCar)
		}
		for _, z := range c.cfg.Zones {
			fc.Zones = append(fc.Zones, z.Name)
		}
		out = append(out, fc)
	}
	return out
}

// FrigateTopicPrefix returns the frigate_topic_prefix of the first MQTT
// sink with frigate_compat, or "" when none has it (api.FrigateSource).
func (e *Engine) FrigateTopicPrefix() string {
	for _, s := range e.cfg.Sinks {
		if s.MQTT != nil && s.MQTT.FrigateCompat {
			return s.MQTT.FrigateTopicPrefix
		}
	}
	return ""
}
