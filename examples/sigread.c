/* A signal handler interrupting read(), with and without SA_RESTART.
 *
 *   ipcviz trace --headless -- ./sigread restart     read() goes on after the handler
 *   ipcviz trace --headless -- ./sigread norestart   read() fails with EINTR
 *
 * The parent sleeps in read() on an empty pipe.  The child waits until the kernel shows the
 * parent asleep in the pipe's read (its wait channel), sends SIGUSR1, then writes one byte.
 * With SA_RESTART the kernel runs the read again after the handler and it returns the byte;
 * without, read() returns -1 EINTR and the parent gives up (it kills the child). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

static int parent_in_read(pid_t parent)
{
    char path[64], buf[64] = "";
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)parent);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 && strstr(buf, "pipe_read") != NULL;
}

int main(int argc, char **argv)
{
    int restart = argc > 1 && strcmp(argv[1], "restart") == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
    int fds[2];
    if (pipe(fds) < 0) { perror("pipe"); return 1; }
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        prctl(PR_SET_NAME, "poker");
        for (int i = 0; i < 5000 && !parent_in_read(parent); i++)
            usleep(1000);
        kill(parent, SIGUSR1);
        usleep(20000);
        write(fds[1], "x", 1);
        return 0;
    }
    prctl(PR_SET_NAME, "sleeper");
    char c;
    ssize_t n = read(fds[0], &c, 1);
    if (n < 0 && errno == EINTR) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return 4;
    }
    waitpid(pid, NULL, 0);
    return n == 1 ? 0 : 1;
}
