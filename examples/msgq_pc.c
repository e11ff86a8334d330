/* Producer and consumer over a System V message queue.
 *
 *   ipcviz trace --headless -- ./msgq_pc          the parent removes the queue at the end
 *   ipcviz trace --headless -- ./msgq_pc keep     ... or leaves it (ipcviz lists it)
 *
 * The consumer sleeps in msgrcv() while the queue is empty; each msgsnd() wakes it. */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg { long mtype; char text[32]; };

int main(int argc, char **argv)
{
    int keep = argc > 1 && strcmp(argv[1], "keep") == 0;
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0) { perror("msgget"); return 1; }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        prctl(PR_SET_NAME, "consumer");
        struct msg m;
        for (int i = 0; i < 3; i++)
            if (msgrcv(q, &m, sizeof m.text, 0, 0) < 0) { perror("msgrcv"); return 1; }
        return 0;
    }
    prctl(PR_SET_NAME, "producer");
    for (int i = 0; i < 3; i++) {
        struct msg m = { 1, "" };
        snprintf(m.text, sizeof m.text, "item %d", i);
        if (msgsnd(q, &m, strlen(m.text) + 1, 0) < 0) { perror("msgsnd"); return 1; }
    }
    waitpid(pid, NULL, 0);
    if (!keep)
        msgctl(q, IPC_RMID, NULL);
    return 0;
}
