package rpc

import (
	"context"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// maxAccountLen bounds an account name (the accounts file allows 64).
const maxAccountLen = 64

// ListAccounts lists the configured Zoom accounts.
func (s *Service) ListAccounts(ctx context.Context, _ *dsarv1.ListAccountsRequest) (*dsarv1.ListAccountsResponse, error) {
	accts, err := s.cfg.Processor.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	out := &dsarv1.ListAccountsResponse{}
	for _, a := range accts {
		out.Accounts = append(out.Accounts, accountToProto(a))
	}
	return out, nil
}

// CheckAccount checks an account now.
func (s *Service) CheckAccount(ctx context.Context, req *dsarv1.CheckAccountRequest) (*dsarv1.CheckAccountResponse, error) {
	const op = "rpc.CheckAccount"
	if err := checkAccount(op, req.GetName()); err != nil {
		return nil, err
	}
	if _, err := s.cfg.Processor.CheckAccount(ctx, req.GetName()); err != nil {
		return nil, err
	}
	a, err := s.cfg.Processor.Account(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &dsarv1.CheckAccountResponse{Account: accountToProto(a)}, nil
}

// ResetAccountQuota forgets an account's Daily-limit parks.
func (s *Service) ResetAccountQuota(ctx context.Context, req *dsarv1.ResetAccountQuotaRequest) (*dsarv1.ResetAccountQuotaResponse, error) {
	const op = "rpc.ResetAccountQuota"
	ctx = actor(ctx)
	if err := checkAccount(op, req.GetName()); err != nil {
		return nil, err
	}
	buckets, err := s.cfg.Processor.ResetQuota(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	a, err := s.cfg.Processor.Account(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &dsarv1.ResetAccountQuotaResponse{UnparkedBuckets: buckets, Account: accountToProto(a)}, nil
}

// StartAccountAuthorization begins the authorization of an OAuth app.
func (s *Service) StartAccountAuthorization(ctx context.Context, req *dsarv1.StartAccountAuthorizationRequest) (*dsarv1.StartAccountAuthorizationResponse, error) {
	const op = "rpc.StartAccountAuthorization"
	if err := checkAccount(op, req.GetName()); err != nil {
		return nil, err
	}
	authorize, redirect, state, err := s.cfg.Processor.StartAuthorization(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &dsarv1.StartAccountAuthorizationResponse{AuthorizeUrl: authorize, RedirectUrl: redirect, State: state}, nil
}

// CompleteAccountAuthorization exchanges Zoom's code for the app's tokens.
func (s *Service) CompleteAccountAuthorization(ctx context.Context, req *dsarv1.CompleteAccountAuthorizationRequest) (*dsarv1.CompleteAccountAuthorizationResponse, error) {
	const op = "rpc.CompleteAccountAuthorization"
	ctx = actor(ctx)
	if err := checkAccount(op, req.GetName()); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"code", req.GetCode()}, {"state", req.GetState()}} {
		if f.v == "" {
			return nil, invalid(op, "%s is empty; pass the %s parameter of the address Zoom redirected to", f.name, f.name)
		}
		if err := checkText(op, f.name, f.v, maxAuthParamLen); err != nil {
			return nil, err
		}
	}
	if _, err := s.cfg.Processor.CompleteAuthorization(ctx, req.GetName(), req.GetCode(), req.GetState()); err != nil {
		return nil, err
	}
	a, err := s.cfg.Processor.Account(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &dsarv1.CompleteAccountAuthorizationResponse{Account: accountToProto(a)}, nil
}

// maxAuthParamLen bounds an authorization code or state; Zoom's codes are
// a few dozen characters.
const maxAuthParamLen = 2048

func checkAccount(op, name string) error {
	if name == "" {
		return invalid(op, "name is empty; dsarctl accounts lists the configured accounts")
	}
	return checkText(op, "name", name, maxAccountLen)
}

func accountToProto(a dsar.Account) *dsarv1.Account {
	out := &dsarv1.Account{
		Name: a.Name, Plan: a.Status.Plan, App: a.Status.App,
		RequestsInFlight: a.InFlight,
	}
	if c := a.Check; !c.At.IsZero() {
		pc := &dsarv1.AccountCheck{CheckTime: ts(c.At), Problem: c.Problem,
			GrantedScopes: c.Granted, MissingScopes: c.Missing}
		for _, sec := range slices.Sorted(maps.Keys(c.Sections)) {
			pc.SectionProblems = append(pc.SectionProblems, &dsarv1.SectionProblem{Section: sec, Problem: c.Sections[sec]})
		}
		out.Check = pc
	}
	for _, b := range a.Status.Buckets {
		pb := &dsarv1.RateBucket{Name: b.Name, ConfiguredRate: b.Configured, CurrentRate: b.Current,
			DailyRemainingTime: ts(b.DailySeen), ParkedUntil: ts(b.ParkedUntil),
			Breaker: b.Breaker, NextProbeTime: ts(b.NextProbe)}
		if b.DailyRemaining >= 0 {
			pb.DailyRemaining = proto.Int32(int32(b.DailyRemaining))
		}
		out.Buckets = append(out.Buckets, pb)
	}
	return out
}
