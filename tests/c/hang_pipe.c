/* The classic hang: the child reads until EOF, but EOF never comes, because the write
 * ends are still open -- in the parent, asleep in waitpid() for the child, and in the
 * child itself.  Neither ever closes its copy. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    char buf[64];
    pid_t child;

    if (pipe(fds) < 0)
        return 2;
    child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        /* forgot: close(fds[1]); */
        while (read(fds[0], buf, sizeof buf) > 0) /* CALL:child-read */
            ;
        return 0;
    }
    close(fds[0]);
    if (write(fds[1], "hello\n", 6) != 6)
        return 2;
    /* forgot: close(fds[1]); */
    printf("%d\n", (int)child);
    fflush(stdout);
    waitpid(child, NULL, 0); /* CALL:parent-wait */
    return 0;
}
