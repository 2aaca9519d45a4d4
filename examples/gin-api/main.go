// gin-api is drydock's example Gin service and a fixture of its tests.
//
// Endpoints:
//
//	GET  /healthz          liveness: 200 while the process serves (503 after POST /admin/fail-health)
//	GET  /readyz           readiness: 200 when READY_ADDR (a TCP address) is reachable, or when unset
//	GET  /api/v1/items     the item list (JSON)
//	POST /api/v1/items     add an item; needs "Authorization: Bearer $API_TOKEN"
//	GET  /api/v1/whoami    the client address as Gin sees it (through trusted proxies), and
//	                       the host name of the replica that answered
//	GET  /static/*         files from STATIC_DIR
//	POST /admin/fail-health  only when ADMIN_ENABLED=true: makes /healthz fail (for probe tests)
//	POST /admin/orphan       only when ADMIN_ENABLED=true: leaves an orphaned grandchild that
//	                         exits soon after, for init tests (who reaps it?)
//	GET  /admin/sleep?ms=N   only when ADMIN_ENABLED=true: answers after N milliseconds (0 to
//	                         10000), a known delay to check a load generator's latencies against
//
// Configuration comes from the environment: PORT (8080), API_TOKEN or API_TOKEN_FILE (required),
// READY_ADDR, STATIC_DIR (static), TRUSTED_PROXIES (comma-separated CIDRs), SHUTDOWN_TIMEOUT (10s).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

type item struct {
	ID   int    `json:"id"`
	Name string `json:"name" binding:"required"`
}

type store struct {
	mu    sync.Mutex
	items []item
}

func (s *store) list() []item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]item{}, s.items...)
}

func (s *store) add(name string) item {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := item{ID: len(s.items) + 1, Name: name}
	s.items = append(s.items, it)
	return it
}

func getenv(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// readSecret returns the API token from API_TOKEN, or from the file API_TOKEN_FILE names
// (Compose and Kubernetes mount secrets as files).
func readSecret() (string, error) {
	if v := os.Getenv("API_TOKEN"); v != "" {
		return v, nil
	}
	if path := os.Getenv("API_TOKEN_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("API_TOKEN_FILE=%s: %v", path, err)
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("API_TOKEN_FILE=%s is empty", path)
	}
	return "", errors.New("API_TOKEN is not set: pass it in the environment (or API_TOKEN_FILE), e.g. from a Kubernetes Secret or a Compose secret")
}

func newRouter(token string, st *store, healthy *atomic.Bool) (*gin.Engine, error) {
	r := gin.New()
	r.Use(gin.Logger(), gin.Recovery())
	proxies := strings.Split(getenv("TRUSTED_PROXIES", "127.0.0.1/32,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"), ",")
	if err := r.SetTrustedProxies(proxies); err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %v", err)
	}

	r.GET("/healthz", func(c *gin.Context) {
		if !healthy.Load() {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "failing"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/readyz", func(c *gin.Context) {
		addr := os.Getenv("READY_ADDR")
		if addr == "" {
			c.JSON(http.StatusOK, gin.H{"status": "ready"})
			return
		}
		conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "dependency": addr, "error": err.Error()})
			return
		}
		conn.Close()
		c.JSON(http.StatusOK, gin.H{"status": "ready", "dependency": addr})
	})

	api := r.Group("/api/v1")
	api.GET("/items", func(c *gin.Context) { c.JSON(http.StatusOK, st.list()) })
	api.POST("/items", func(c *gin.Context) {
		if c.GetHeader("Authorization") != "Bearer "+token {
			c.JSON(http.StatusUnauthorized, gin.H{"error": "missing or wrong bearer token"})
			return
		}
		var in item
		if err := c.ShouldBindJSON(&in); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusCreated, st.add(in.Name))
	})
	api.GET("/whoami", func(c *gin.Context) {
		host, _ := os.Hostname()
		c.JSON(http.StatusOK, gin.H{"client_ip": c.ClientIP(), "remote_addr": c.Request.RemoteAddr, "hostname": host})
	})

	r.Static("/static", getenv("STATIC_DIR", "static"))

	if os.Getenv("ADMIN_ENABLED") == "true" {
		r.POST("/admin/fail-health", func(c *gin.Context) {
			healthy.Store(false)
			c.JSON(http.StatusOK, gin.H{"healthz": "failing"})
		})
		r.POST("/admin/orphan", func(c *gin.Context) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "GIN_API_ROLE=orphan-parent")
			if err := cmd.Run(); err != nil {
				c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
				return
			}
			c.JSON(http.StatusOK, gin.H{"orphan": "started"})
		})
		r.GET("/admin/sleep", func(c *gin.Context) {
			ms, err := strconv.Atoi(c.DefaultQuery("ms", "0"))
			if err != nil || ms < 0 || ms > 10000 {
				c.JSON(http.StatusBadRequest, gin.H{"error": "ms must be 0 to 10000"})
				return
			}
			time.Sleep(time.Duration(ms) * time.Millisecond)
			c.JSON(http.StatusOK, gin.H{"slept_ms": ms})
		})
	}
	return r, nil
}

// runRole handles the helper processes of /admin/orphan: a parent that starts a child and exits
// at once, so the child is re-parented to PID 1 and becomes a zombie when it exits.
func runRole(role string) {
	switch role {
	case "orphan-parent":
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "GIN_API_ROLE=orphan-child")
		if err := cmd.Start(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case "orphan-child":
		time.Sleep(200 * time.Millisecond)
		os.Exit(0)
	}
}

func main() {
	if role := os.Getenv("GIN_API_ROLE"); role != "" {
		runRole(role)
		return
	}
	log.SetFlags(0)
	log.SetPrefix("gin-api: ")
	token, err := readSecret()
	if err != nil {
		log.Printf("fatal: %v", err)
		os.Exit(2)
	}
	shutdownTimeout, err := time.ParseDuration(getenv("SHUTDOWN_TIMEOUT", "10s"))
	if err != nil {
		log.Printf("fatal: SHUTDOWN_TIMEOUT: %v", err)
		os.Exit(2)
	}
	var healthy atomic.Bool
	healthy.Store(true)
	router, err := newRouter(token, &store{}, &healthy)
	if err != nil {
		log.Printf("fatal: %v", err)
		os.Exit(2)
	}

	srv := &http.Server{
		Addr:              ":" + getenv("PORT", "8080"),
		Handler:           router,
		ReadHeaderTimeout: 5 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("listening on %s", srv.Addr)

	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-errc:
		log.Printf("fatal: %v", err)
		os.Exit(1)
	case sig := <-sigc:
		log.Printf("received %v, shutting down (timeout %v)", sig, shutdownTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Printf("shutdown: %v", err)
		os.Exit(1)
	}
	log.Printf("shut down cleanly")
}
