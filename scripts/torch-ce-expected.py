# Expected numbers for test/hardening/review-10-losses.test.ts (crossEntropy / nll with
# ignoreIndex and PyTorch's K-dimensional form). Run: /usr/bin/python3 scripts/torch-ce-expected.py
import torch
import torch.nn.functional as F

def seq(n, scale=0.1):
    return torch.tensor([((i * 7) % 11 - 5) * scale for i in range(n)], dtype=torch.float32)

x = seq(2 * 3 * 4).reshape(2, 3, 4).requires_grad_()   # [N=2, C=3, d=4]
t = torch.tensor([[0, 2, -100, 1], [1, -100, 0, 2]])
for red in ['mean', 'sum', 'none']:
    v = F.cross_entropy(x, t, reduction=red)
    print('ce3', red, [round(a, 6) for a in v.reshape(-1).tolist()])
F.cross_entropy(x, t).backward()
print('ce3 grad', [round(a, 6) for a in x.grad.reshape(-1).tolist()])
x2 = seq(4 * 3).reshape(4, 3)
t2 = torch.tensor([2, 5, 0, 5])
print('ce2 ignore5 mean', round(F.cross_entropy(x2, t2, ignore_index=5).item(), 6))
print('ce2 all ignored mean', F.cross_entropy(x2, torch.tensor([-100] * 4)).item())
print('ce2 all ignored sum', F.cross_entropy(x2, torch.tensor([-100] * 4), reduction='sum').item())
x4 = seq(2 * 3 * 2 * 2, 0.3).reshape(2, 3, 2, 2)
t4 = torch.tensor([[[0, 1], [2, 0]], [[1, 1], [-100, 2]]])
print('ce4 mean', round(F.cross_entropy(x4, t4).item(), 6))
print('nll3 mean', round(F.nll_loss(F.log_softmax(x.detach(), 1), t).item(), 6))
p = torch.softmax(seq(2 * 3 * 4, 0.2).reshape(2, 3, 4), 1)
print('ce3 probs mean', round(F.cross_entropy(x.detach(), p).item(), 6))
print('ce1', round(F.cross_entropy(seq(3), torch.tensor(1)).item(), 6))
