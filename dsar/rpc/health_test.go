package rpc

import (
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

func TestHealth(t *testing.T) {
	// Auth without tokens: health must answer without credentials.
	srv := startServer(t, &Auth{}, nil)
	client := healthpb.NewHealthClient(srv.dial(t, grpc.WithTransportCredentials(insecure.NewCredentials())))
	const (
		serving    = healthpb.HealthCheckResponse_SERVING
		notServing = healthpb.HealthCheckResponse_NOT_SERVING
	)
	for _, step := range []struct {
		name string
		do   func()
		want healthpb.HealthCheckResponse_ServingStatus
	}{
		{"new", func() {}, notServing},
		{"store open, resume scheduled", srv.health.SetServing, serving},
		{"not serving", srv.health.SetNotServing, notServing},
		{"serving again", srv.health.SetServing, serving},
		{"shutdown", srv.health.Shutdown, notServing},
		{"serving after shutdown is ignored", srv.health.SetServing, notServing},
	} {
		step.do()
		if got := srv.health.Serving(); got != (step.want == serving) {
			t.Errorf("%s: Serving() = %v", step.name, got)
		}
		for _, service := range []string{"", dsarv1.AccessRequestService_ServiceDesc.ServiceName} {
			r, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{Service: service})
			if err != nil {
				t.Fatalf("%s: Check(%q): %v", step.name, service, err)
			}
			if r.GetStatus() != step.want {
				t.Errorf("%s: Check(%q) = %v, want %v", step.name, service, r.GetStatus(), step.want)
			}
		}
	}
}

func TestReflection(t *testing.T) {
	// No credentials: grpcurl must be able to list the API.
	srv := startServer(t, &Auth{}, nil)
	conn := srv.dial(t, grpc.WithTransportCredentials(insecure.NewCredentials()))
	st, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	err = st.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{dsarv1.AccessRequestService_ServiceDesc.ServiceName, "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
}
