/* Blocks forever in one call, chosen by argv[1]: read | semop | msgrcv.
 * The line of each call carries a marker comment (CALL:name): tests find the line there.
 * semop / msgrcv print the System V id first, so the test can remove the object
 * (IPC_RMID wakes the call with EIDRM and the program exits). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

struct message {
    long type;
    char text[16];
};

static int wait_read(void)
{
    int fds[2];
    char c;
    if (pipe(fds) < 0)
        return 2;
    printf("ready\n");
    fflush(stdout);
    /* it holds the write end itself: this read never sees EOF */
    return (int)read(fds[0], &c, 1); /* CALL:read */
}

static int wait_semop(void)
{
    struct sembuf op = {0, -1, 0};
    int id = semget(IPC_PRIVATE, 1, 0600);
    if (id < 0)
        return 2;
    printf("%d\n", id);
    fflush(stdout);
    return semop(id, &op, 1); /* CALL:semop */
}

static int wait_msgrcv(void)
{
    struct message m;
    int id = msgget(IPC_PRIVATE, 0600);
    if (id < 0)
        return 2;
    printf("%d\n", id);
    fflush(stdout);
    return (int)msgrcv(id, &m, sizeof m.text, 0, 0); /* CALL:msgrcv */
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "read") == 0)
        return wait_read() < 0 ? 1 : 0;
    if (strcmp(argv[1], "semop") == 0)
        return wait_semop() < 0 ? 1 : 0;
    if (strcmp(argv[1], "msgrcv") == 0)
        return wait_msgrcv() < 0 ? 1 : 0;
    return 2;
}
