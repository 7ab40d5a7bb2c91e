package feedtest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of three masters (no replicas) on loopback, every
// slot assigned, stopped by t.Cleanup. It needs redis-server and redis-cli; the
// test is skipped without them, or fails when RequireEnv is set.
type Cluster struct {
	// Nodes are the masters, in the order redis-cli gave them their slots.
	Nodes []*Server
	// URL is the nodes' host:port list, comma-separated, as feed.Connect takes
	// a cluster.
	URL string

	t       testing.TB
	mu      sync.Mutex
	clients []redis.UniversalClient
}

// StartCluster starts three cluster-enabled redis-servers, joins them with
// `redis-cli --cluster create` and waits until every node says cluster_state:ok
// and knows the others.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, cli := clusterTools(t)
	c := &Cluster{t: t}
	args := []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", "5000", "--appendonly", "no"}
	var addrs []string
	for range 3 {
		n := startReal(t, bin, args)
		c.Nodes = append(c.Nodes, n)
		addrs = append(addrs, n.Addr)
	}
	c.URL = strings.Join(addrs, ",")
	t.Cleanup(c.close)
	cmdArgs := append([]string{"--cluster", "create"}, addrs...)
	cmdArgs = append(cmdArgs, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, cmdArgs...).CombinedOutput(); err != nil {
		t.Fatalf("feedtest: redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx := context.Background()
	c.waitFor("every node to report cluster_state:ok with 3 known nodes", func() bool {
		for _, n := range c.Nodes {
			info, err := n.direct(ctx, "CLUSTER", "INFO")
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") ||
				!strings.Contains(info, "cluster_slots_ok:16384") {
				return false
			}
		}
		return true
	})
	return c
}

// clusterTools finds redis-server and redis-cli.
func clusterTools(t testing.TB) (bin, cli string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		cli, err = exec.LookPath("redis-cli")
	}
	if err != nil {
		requireReal(t)
		t.Skipf("feedtest: a cluster or sentinels need redis-server and redis-cli: %v", err)
	}
	return bin, cli
}

// direct runs one command on this server alone (no cluster redirects) and
// returns its reply as text.
func (s *Server) direct(ctx context.Context, args ...any) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	v, err := c.Do(ctx, args...).Result()
	if err != nil {
		return "", err
	}
	return fmt.Sprint(v), nil
}

// waitFor polls cond every 20 ms for up to 30 s, failing the test after that.
func (c *Cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("feedtest: timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Client returns a cluster client for the nodes, closed at cleanup. Like
// Server.Client's it fails fast on a dead node; redirects (MOVED, ASK) and
// TRYAGAIN are followed by go-redis.
func (c *Cluster) Client() redis.UniversalClient {
	cl := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 strings.Split(c.URL, ","),
		DialTimeout:           time.Second,
		ContextTimeoutEnabled: true,
		IsClusterMode:         true,
	})
	c.mu.Lock()
	c.clients = append(c.clients, cl)
	c.mu.Unlock()
	return cl
}

// FlushAll empties every node.
func (c *Cluster) FlushAll(ctx context.Context) {
	c.t.Helper()
	for _, n := range c.Nodes {
		if _, err := n.direct(ctx, "FLUSHALL"); err != nil {
			c.t.Fatalf("feedtest: flush %s: %v", n.Addr, err)
		}
	}
}

// Owner returns the node serving key's slot now, as that node itself says.
func (c *Cluster) Owner(ctx context.Context, key string) *Server {
	c.t.Helper()
	slot, err := c.slot(ctx, key)
	if err != nil {
		c.t.Fatalf("feedtest: %v", err)
	}
	for _, n := range c.Nodes {
		owner, err := n.slotOwner(ctx, slot)
		if err != nil {
			c.t.Fatalf("feedtest: %v", err)
		}
		if owner == n.Addr {
			return n
		}
	}
	c.t.Fatalf("feedtest: no node serves slot %d", slot)
	return nil
}

func (c *Cluster) slot(ctx context.Context, key string) (int, error) {
	v, err := c.Nodes[0].direct(ctx, "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return 0, fmt.Errorf("keyslot of %s: %w", key, err)
	}
	return strconv.Atoi(v)
}

// slotOwner says which address n believes serves slot.
func (s *Server) slotOwner(ctx context.Context, slot int) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ranges, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("cluster slots on %s: %w", s.Addr, err)
	}
	for _, r := range ranges {
		if slot >= int(r.Start) && slot <= int(r.End) && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", nil
}

// MoveSlot moves the slot holding key from its owner to the next master, the
// way an operator resharding by hand does, while clients keep writing:
// IMPORTING on the target and MIGRATING on the source (clients asking the source
// for a key already moved are sent on with ASK), MIGRATE of every key in the
// slot one at a time, then SETSLOT NODE on every master (clients still asking
// the source get MOVED). between is called with "migrating" once the slot is
// open and no key has moved yet, and with "moved" once every key is on the
// target but the source still owns the slot (only ASK reaches them), so a test
// can wait for writes in each state. It returns the source and the target.
func (c *Cluster) MoveSlot(ctx context.Context, key string, between func(phase string)) (from, to *Server) {
	c.t.Helper()
	slot, err := c.slot(ctx, key)
	if err != nil {
		c.t.Fatalf("feedtest: %v", err)
	}
	from = c.Owner(ctx, key)
	for i, n := range c.Nodes {
		if n == from {
			to = c.Nodes[(i+1)%len(c.Nodes)]
		}
	}
	fromID, err := from.direct(ctx, "CLUSTER", "MYID")
	if err != nil {
		c.t.Fatalf("feedtest: %v", err)
	}
	toID, err := to.direct(ctx, "CLUSTER", "MYID")
	if err != nil {
		c.t.Fatalf("feedtest: %v", err)
	}
	must := func(n *Server, args ...any) {
		c.t.Helper()
		if _, err := n.direct(ctx, args...); err != nil {
			c.t.Fatalf("feedtest: %v on %s: %v", args, n.Addr, err)
		}
	}
	must(to, "CLUSTER", "SETSLOT", slot, "IMPORTING", fromID)
	must(from, "CLUSTER", "SETSLOT", slot, "MIGRATING", toID)
	if between != nil {
		between("migrating")
	}
	host, port, _ := net.SplitHostPort(to.Addr)
	for {
		v, err := from.directSlice(ctx, "CLUSTER", "GETKEYSINSLOT", slot, 1)
		if err != nil {
			c.t.Fatalf("feedtest: keys in slot %d on %s: %v", slot, from.Addr, err)
		}
		if len(v) == 0 {
			break
		}
		must(from, "MIGRATE", host, port, "", 0, 5000, "KEYS", v[0])
	}
	if between != nil {
		between("moved")
	}
	// The target first, then the source, so that a client redirected by the
	// source always finds the target ready; then the bystander.
	must(to, "CLUSTER", "SETSLOT", slot, "NODE", toID)
	must(from, "CLUSTER", "SETSLOT", slot, "NODE", toID)
	for _, n := range c.Nodes {
		if n != from && n != to {
			must(n, "CLUSTER", "SETSLOT", slot, "NODE", toID)
		}
	}
	c.waitFor(fmt.Sprintf("every node to see slot %d on %s", slot, to.Addr), func() bool {
		for _, n := range c.Nodes {
			if owner, err := n.slotOwner(ctx, slot); err != nil || owner != to.Addr {
				return false
			}
		}
		return true
	})
	return from, to
}

func (s *Server) directSlice(ctx context.Context, args ...any) ([]any, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	return c.Do(ctx, args...).Slice()
}

// Redirects returns how many ASK and MOVED replies the nodes have sent since
// they started (INFO errorstats), so a test can show its clients were redirected.
func (c *Cluster) Redirects(ctx context.Context) (ask, moved int64) {
	c.t.Helper()
	for _, n := range c.Nodes {
		info, err := n.direct(ctx, "INFO", "errorstats")
		if err != nil {
			c.t.Fatalf("feedtest: errorstats of %s: %v", n.Addr, err)
		}
		ask += infoCount(info, "errorstat_ASK:count=")
		moved += infoCount(info, "errorstat_MOVED:count=")
	}
	return ask, moved
}

// infoCount reads the integer after prefix in an INFO reply (0 when absent).
func infoCount(info, prefix string) int64 {
	i := strings.Index(info, prefix)
	if i < 0 {
		return 0
	}
	rest := info[i+len(prefix):]
	end := strings.IndexAny(rest, ",\r\n")
	if end >= 0 {
		rest = rest[:end]
	}
	n, _ := strconv.ParseInt(rest, 10, 64)
	return n
}

func (c *Cluster) close() {
	c.mu.Lock()
	clients := c.clients
	c.clients = nil
	c.mu.Unlock()
	for _, cl := range clients {
		_ = cl.Close()
	}
}
