/* Two processes take two System V semaphores in opposite order and deadlock.
 * Two pipes make the order certain: each takes its first semaphore, tells the other,
 * waits to hear that the other has taken its own, then asks for the second.
 * Prints the two semaphore ids first (the test removes them: EIDRM ends the waits). */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    struct sembuf up = {0, 1, 0}, down = {0, -1, 0};
    int go[2], back[2];
    char c;
    int a = semget(IPC_PRIVATE, 1, 0600);
    int b = semget(IPC_PRIVATE, 1, 0600);
    pid_t child;

    if (a < 0 || b < 0 || pipe(go) < 0 || pipe(back) < 0)
        return 2;
    semop(a, &up, 1);
    semop(b, &up, 1);
    printf("%d %d\n", a, b);
    fflush(stdout);
    child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        semop(b, &down, 1);
        if (write(back[1], "b", 1) != 1 || read(go[0], &c, 1) != 1)
            return 2;
        semop(a, &down, 1); /* CALL:child-takes-a */
        return 0;
    }
    semop(a, &down, 1);
    if (write(go[1], "a", 1) != 1 || read(back[0], &c, 1) != 1)
        return 2;
    semop(b, &down, 1); /* CALL:parent-takes-b */
    waitpid(child, NULL, 0);
    return 0;
}
