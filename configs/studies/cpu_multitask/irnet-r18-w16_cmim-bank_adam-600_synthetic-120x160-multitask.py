# The CPU-scale study's IR-Net + CMIM (memory bank) row: the in-batch row
# with the memory-bank NCE form: one bank row per training frame (53 in the
# 96-frame twin), 32 negatives per positive drawn from the bank.
_base_ = ['./irnet-r18-w16_cmim_adam-600_synthetic-120x160-multitask.py']
model = dict(memory_bank=dict(size=53, num_negatives=32, momentum=0.5))
work_dir = './work_dirs/studies/cpu_multitask/irnet_cmim_bank'
