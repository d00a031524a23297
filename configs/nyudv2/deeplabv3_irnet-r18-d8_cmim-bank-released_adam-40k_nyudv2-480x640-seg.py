# CMIM with the released code's memory-bank convention (42Shawn/CMIM,
# CIFAR-100; docs/cmim_memory_bank.md), piled on
# deeplabv3_irnet-r18-d8_adam-40k_nyudv2-480x640-seg.py: one recorded layer
# (the last binary conv of the last stage), alpha = 3.2, the two sides'
# losses summed, 128-d embeddings, tau = 0.1, N = 4096 negatives (all 794
# others of the 795 NYUD-v2 training frames), bank momentum 0.5, Z fixed on
# the first batch, positives from the other side's bank.
_base_ = ['./deeplabv3_irnet-r18-d8_cmim_adam-40k_nyudv2-480x640-seg.py']
model = dict(
    layers=['backbone.layer4.1.conv2'],
    embed_dim=128,
    temperature=0.1,
    loss_weight=3.2,
    memory_bank=dict(
        size=795,  # NYUD-v2 train; CMIMMemoryHook refuses another length
        num_negatives=4096,
        momentum=0.5,
        positive='bank',
        reduction='sum'))
