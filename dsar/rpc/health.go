package rpc

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// Health is dsard's grpc.health.v1 service. It starts NOT_SERVING: load
// balancers send no traffic until the store is open and the resume of
// interrupted requests has been scheduled (SetServing), and none once
// shutdown begins (Shutdown).
//
// It reports the same status for the whole server ("") and for
// dsar.v1.AccessRequestService.
type Health struct {
	srv *health.Server
}

// NewHealth returns a Health that is NOT_SERVING.
func NewHealth() *Health {
	h := &Health{srv: health.NewServer()}
	h.set(healthpb.HealthCheckResponse_NOT_SERVING)
	return h
}

// Register registers the health service on s.
func (h *Health) Register(s grpc.ServiceRegistrar) {
	healthpb.RegisterHealthServer(s, h.srv)
}

// SetServing reports SERVING: the store is open and resume is scheduled.
func (h *Health) SetServing() { h.set(healthpb.HealthCheckResponse_SERVING) }

// SetNotServing reports NOT_SERVING until the next SetServing, e.g. while
// the store cannot be written.
func (h *Health) SetNotServing() { h.set(healthpb.HealthCheckResponse_NOT_SERVING) }

// Serving reports whether the server is SERVING: dsard's /readyz.
func (h *Health) Serving() bool {
	r, err := h.srv.Check(context.Background(), &healthpb.HealthCheckRequest{})
	return err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING
}

// Shutdown reports NOT_SERVING for good: later SetServing calls are
// ignored. Call it first in a graceful shutdown, before GracefulStop.
func (h *Health) Shutdown() { h.srv.Shutdown() }

func (h *Health) set(st healthpb.HealthCheckResponse_ServingStatus) {
	h.srv.SetServingStatus("", st)
	h.srv.SetServingStatus(dsarv1.AccessRequestService_ServiceDesc.ServiceName, st)
}

// RegisterReflection registers server reflection on s, so that grpcurl can
// list and describe the API without the .proto files.
func RegisterReflection(s reflection.GRPCServer) {
	reflection.Register(s)
}
