/* A pipe that never sees end-of-file: the reader forgot to close its own write end.
 *
 *   ipcviz trace --headless -- ./never_eof
 *
 * The parent writes one line and closes its write end; the child reads until read()
 * returns 0 (EOF).  EOF comes only when *every* write end is closed, and the child still
 * holds one (fd 4, inherited through fork): it sleeps in read() forever, and the parent
 * sleeps in waitpid() for it.  Fix: close(fds[1]) in the child before the loop. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    if (pipe(fds) < 0) { perror("pipe"); return 1; }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        prctl(PR_SET_NAME, "reader");
        /* forgotten: close(fds[1]); */
        char buf[64];
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0)
            ;
        return 0;
    }
    prctl(PR_SET_NAME, "writer");
    close(fds[0]);
    const char *msg = "hello\n";
    write(fds[1], msg, strlen(msg));
    close(fds[1]);
    waitpid(pid, NULL, 0);
    return 0;
}
