/* Deadlock on two semaphores taken in opposite order.
 *
 *   ipcviz trace --headless -- ./sem_deadlock
 *
 * The parent takes A, the child takes B; a pipe makes sure both hold their first one
 * before either asks for the second.  Then the parent waits for B (held by the child) and
 * the child for A (held by the parent): neither can ever move.  The two semaphore sets stay
 * behind when the processes are killed; ipcviz lists them with the ipcrm command. */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

union semun { int val; };

static int make(void)
{
    int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    union semun one = { 1 };
    semctl(id, 0, SETVAL, one);
    return id;
}

static void take(int id)
{
    struct sembuf op = { 0, -1, 0 };
    semop(id, &op, 1);
}

int main(void)
{
    int a = make(), b = make(), ready[2];
    if (a < 0 || b < 0 || pipe(ready) < 0) { perror("setup"); return 1; }
    take(a);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        prctl(PR_SET_NAME, "second");
        take(b);
        write(ready[1], "b", 1); /* "I hold B" */
        take(a);                 /* held by the parent: sleeps for ever */
        return 0;
    }
    prctl(PR_SET_NAME, "first");
    char c;
    read(ready[0], &c, 1);       /* the child holds B now */
    take(b);                     /* held by the child: sleeps for ever */
    waitpid(pid, NULL, 0);
    return 0;
}
