package feedtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SentinelMaster is the master name the sentinels of StartSentinel watch.
const SentinelMaster = "mavtop"

// Sentinel is a master, one replica and three sentinels on loopback (quorum
// 2), stopped by t.Cleanup. It needs redis-server (run with --sentinel) and
// redis-cli like StartCluster.
type Sentinel struct {
	// Data are the master and the replica, in their roles at start.
	Data []*Server
	// Sentinels watch SentinelMaster.
	Sentinels []*Server
	// URL lists the sentinels' host:port, comma-separated, as feed.Connect
	// takes them with ConnectOptions.SentinelMaster.
	URL string

	t testing.TB
}

// StartSentinel starts the master, the replica (waiting until it is in sync)
// and the sentinels (waiting until each knows the replica and the other two).
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin, _ := clusterTools(t)
	s := &Sentinel{t: t}
	data := []string{"--appendonly", "no", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}
	master := startReal(t, bin, data)
	host, port, _ := net.SplitHostPort(master.Addr)
	replica := startReal(t, bin, append(data, "--replicaof", host, port))
	s.Data = []*Server{master, replica}
	ctx := context.Background()
	s.waitFor("the replica to be in sync", func() bool {
		info, err := replica.direct(ctx, "INFO", "replication")
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	var addrs []string
	for range 3 {
		sn := newReal(t, bin, []string{"--sentinel"})
		sn.conf = filepath.Join(sn.dir, "sentinel.conf")
		conf := fmt.Sprintf("sentinel monitor %[1]s %[2]s %[3]s 2\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 5000\n", SentinelMaster, host, port)
		if err := os.WriteFile(sn.conf, []byte(conf), 0o644); err != nil {
			t.Fatalf("feedtest: %v", err)
		}
		sn.start()
		s.Sentinels = append(s.Sentinels, sn)
		addrs = append(addrs, sn.Addr)
	}
	s.URL = strings.Join(addrs, ",")
	s.waitFor("every sentinel to know the replica and the other sentinels", func() bool {
		for _, sn := range s.Sentinels {
			reps, err1 := sn.directSlice(ctx, "SENTINEL", "REPLICAS", SentinelMaster)
			sens, err2 := sn.directSlice(ctx, "SENTINEL", "SENTINELS", SentinelMaster)
			if err1 != nil || err2 != nil || len(reps) != 1 || len(sens) != 2 {
				return false
			}
		}
		return true
	})
	return s
}

func (s *Sentinel) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("feedtest: timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Master returns the data server the first sentinel names as master now.
func (s *Sentinel) Master(ctx context.Context) *Server {
	s.t.Helper()
	addr, err := s.masterAddr(ctx, s.Sentinels[0])
	if err != nil {
		s.t.Fatalf("feedtest: %v", err)
	}
	for _, d := range s.Data {
		if d.Addr == addr {
			return d
		}
	}
	s.t.Fatalf("feedtest: the sentinels name %s, not one of the data servers", addr)
	return nil
}

func (s *Sentinel) masterAddr(ctx context.Context, sn *Server) (string, error) {
	v, err := sn.directSlice(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster)
	if err != nil {
		return "", fmt.Errorf("ask sentinel %s for the master: %w", sn.Addr, err)
	}
	if len(v) != 2 {
		return "", fmt.Errorf("sentinel %s answered %v for the master", sn.Addr, v)
	}
	return net.JoinHostPort(fmt.Sprint(v[0]), fmt.Sprint(v[1])), nil
}

// Failover asks a sentinel for SENTINEL FAILOVER (promote the replica without
// the old master's agreement, as after its loss) and waits until the promoted
// server says it is master and every sentinel names it. The sentinels turn the
// old master into its replica later (when they next ask it, within 10 s);
// until then a client that has not heard of the switch may still write there,
// and those writes are lost, as in production. It returns the old and the new
// master.
func (s *Sentinel) Failover(ctx context.Context) (from, to *Server) {
	s.t.Helper()
	from = s.Master(ctx)
	for _, d := range s.Data {
		if d != from {
			to = d
		}
	}
	if _, err := s.Sentinels[0].direct(ctx, "SENTINEL", "FAILOVER", SentinelMaster); err != nil {
		s.t.Fatalf("feedtest: SENTINEL FAILOVER: %v", err)
	}
	s.waitFor("the replica to be promoted and every sentinel to name it", func() bool {
		if role, err := to.directSlice(ctx, "ROLE"); err != nil || len(role) == 0 || role[0] != "master" {
			return false
		}
		for _, sn := range s.Sentinels {
			if addr, err := s.masterAddr(ctx, sn); err != nil || addr != to.Addr {
				return false
			}
		}
		return true
	})
	return from, to
}
