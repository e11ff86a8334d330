/* The kernel as the oracle for interrupted calls (tests/test_eintr_oracle.py).

   eintr_oracle CALL RESTART DIR: make CALL block the way an ipcviz lesson makes it block,
   with a SIGUSR1 handler installed by sigaction() with sa_flags = SA_RESTART (RESTART = 1)
   or 0.  The test sends SIGUSR1 while the call sleeps; the handler writes "h" to fd 2, so
   the test knows it ran; then the test sees either the call asleep again (restarted) or
   this line on stdout:  ret=N errno=NAME  (errno=0 when the call did not fail).
   sleep(2), nanosleep(500 ms) and mq_timedreceive (a deadline 500 ms away) arm their own
   timer (SIGALRM, 200 ms) instead, and print what the call returned in the end: a timed
   wait that restarts fails with ETIMEDOUT at its deadline.  DIR holds the FIFO and socket files. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_signal(int sig) { (void)sig; write(2, "h", 1); }

static const char *errname(int e) {
    switch (e) {
    case 0: return "0";
    case EINTR: return "EINTR";
    case EAGAIN: return "EAGAIN";
    default: return strerrorname_np(e);
    }
}

static struct sockaddr_un unix_addr(const char *dir, const char *name) {
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", dir, name);
    return a;
}

static long blocking_call(const char *call, const char *dir) {
    char buf[100];
    int p[2];
    if (!strcmp(call, "read") || !strcmp(call, "poll") || !strcmp(call, "select")) {
        pipe(p);  /* the write end stays open: the reader sleeps */
        if (!strcmp(call, "read")) return read(p[0], buf, sizeof buf);
        if (!strcmp(call, "poll")) {
            struct pollfd pfd = { .fd = p[0], .events = POLLIN };
            return poll(&pfd, 1, -1);
        }
        fd_set set;
        FD_ZERO(&set);
        FD_SET(p[0], &set);
        return select(p[0] + 1, &set, NULL, NULL, NULL);
    }
    if (!strcmp(call, "write")) {
        pipe(p);
        int cap = fcntl(p[1], F_GETPIPE_SZ);
        char *fill = calloc(1, cap);
        write(p[1], fill, cap);  /* the pipe is full */
        return write(p[1], "x", 1);
    }
    if (!strcmp(call, "open")) {
        char path[200];
        snprintf(path, sizeof path, "%s/f", dir);
        mkfifo(path, 0600);
        return open(path, O_RDONLY);
    }
    if (!strcmp(call, "wait")) {
        pid_t child = fork();
        if (child == 0) { signal(SIGUSR1, SIG_DFL); for (;;) pause(); }
        int status;
        long r = waitpid(child, &status, 0);
        int e = errno;
        kill(child, SIGKILL);  /* not waited for: no second sleep in wait4 to mistake */
        errno = e;
        return r;
    }
    if (!strcmp(call, "msgrcv") || !strcmp(call, "msgsnd")) {
        int q = msgget(IPC_PRIVATE, 0600);
        struct { long mtype; char text[16]; } m = { 1, "0123456789abcdef" };
        long r;
        if (!strcmp(call, "msgrcv")) {
            r = msgrcv(q, &m, sizeof m.text, 0, 0);
        } else {
            struct msqid_ds ds;
            msgctl(q, IPC_STAT, &ds);
            ds.msg_qbytes = 16;
            msgctl(q, IPC_SET, &ds);
            msgsnd(q, &m, 16, 0);  /* the queue is full */
            r = msgsnd(q, &m, 1, 0);
        }
        int e = errno;
        msgctl(q, IPC_RMID, NULL);
        errno = e;
        return r;
    }
    if (!strcmp(call, "mq_receive") || !strcmp(call, "mq_send")) {
        char name[64];
        snprintf(name, sizeof name, "/ipcviz-oracle-%d", getpid());
        struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 16 };
        mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
        mq_unlink(name);  /* nothing left behind, whatever happens next */
        if (!strcmp(call, "mq_receive")) return mq_receive(q, buf, 16, NULL);
        mq_send(q, "x", 1, 0);  /* the queue is full */
        return mq_send(q, "y", 1, 0);
    }
    if (!strcmp(call, "sem_wait")) {
        char name[64];
        snprintf(name, sizeof name, "/ipcviz-oracle-%d", getpid());
        sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
        sem_unlink(name);
        return sem_wait(s);
    }
    if (!strcmp(call, "semop")) {
        int id = semget(IPC_PRIVATE, 1, 0600);  /* a new semaphore counts 0 */
        struct sembuf op = { 0, -1, 0 };
        long r = semop(id, &op, 1);
        int e = errno;
        semctl(id, 0, IPC_RMID);
        errno = e;
        return r;
    }
    if (!strcmp(call, "accept") || !strcmp(call, "connect")) {
        struct sockaddr_un a = unix_addr(dir, "srv");
        int srv = socket(AF_UNIX, SOCK_STREAM, 0);
        bind(srv, (struct sockaddr *)&a, sizeof a);
        if (!strcmp(call, "accept")) {
            listen(srv, 1);
            return accept(srv, NULL, NULL);
        }
        listen(srv, 0);
        int c1 = socket(AF_UNIX, SOCK_STREAM, 0);
        connect(c1, (struct sockaddr *)&a, sizeof a);  /* the queue is full */
        int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
        return connect(c2, (struct sockaddr *)&a, sizeof a);
    }
    if (!strcmp(call, "recvmsg")) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        struct iovec iov = { buf, sizeof buf };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        return recvmsg(sv[1], &msg, 0);
    }
    if (!strcmp(call, "sendmsg")) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        size_t big = 1 << 20;
        char *fill = calloc(1, big);
        fcntl(sv[0], F_SETFL, O_NONBLOCK);
        write(sv[0], fill, big);  /* as much as the socket takes: it is full */
        fcntl(sv[0], F_SETFL, 0);
        union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
        struct iovec iov = { "x", 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                              .msg_controllen = sizeof ctl.buf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
        return sendmsg(sv[0], &msg, 0);
    }
    if (!strcmp(call, "pause")) return pause();
    if (!strcmp(call, "sigsuspend")) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR2);
        return sigsuspend(&mask);
    }
    if (!strcmp(call, "sigwait")) {
        sigset_t set;
        int sig;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        sigprocmask(SIG_BLOCK, &set, NULL);
        int r = sigwait(&set, &sig);  /* returns the error number, not -1 */
        if (r != 0) { errno = r; return -1; }
        return sig;
    }
    if (!strcmp(call, "sem_timedwait") || !strcmp(call, "mq_timedreceive")) {
        char name[64];
        snprintf(name, sizeof name, "/ipcviz-oracle-%d", getpid());
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        if (!strcmp(call, "sem_timedwait")) {  /* blocks: the test's signal comes first */
            deadline.tv_sec += 5;
            sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
            sem_unlink(name);
            return sem_timedwait(s, &deadline);
        }
        deadline.tv_nsec += 500000000;  /* 500 ms from now; the timer rings at 200 ms */
        if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
        struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 16 };
        mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
        mq_unlink(name);
        struct itimerval t = { .it_value = { 0, 200000 } };
        setitimer(ITIMER_REAL, &t, NULL);
        return mq_timedreceive(q, buf, 16, NULL, &deadline);
    }
    if (!strcmp(call, "sleep") || !strcmp(call, "nanosleep")) {
        struct itimerval t = { .it_value = { 0, 200000 } };
        setitimer(ITIMER_REAL, &t, NULL);
        if (!strcmp(call, "sleep")) return sleep(2);
        struct timespec ts = { 0, 500000000 };
        return nanosleep(&ts, NULL);
    }
    fprintf(stderr, "unknown call %s\n", call);
    exit(2);
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    struct sigaction sa = { .sa_handler = on_signal };
    sa.sa_flags = atoi(argv[2]) ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    errno = 0;
    long r = blocking_call(argv[1], argv[3]);
    printf("ret=%ld errno=%s\n", r, errname(r < 0 ? errno : 0));
    return 0;
}
