"""NYUD-v2 class tables: 894 raw classes, the 40- and 13-class mappings.

The tables are data, carried by the package so that users need no metadata
file beside the labeled set:

- ``NYU894_NAMES``: the names of the raw NYU classes, ``NYU894_NAMES[k - 1]``
  is raw class ``k`` (the ``names`` cell array of ``nyu_depth_v2_labeled.mat``,
  also ``allClassName`` of ``classMapping40.mat``).
- ``MAP_894_TO_40``: ``mapClass`` of ``classMapping40.mat`` (Gupta et al.
  2013): raw class ``k`` (1..894) -> 40-class id ``MAP_894_TO_40[k - 1]``
  (1..40).
- ``MAP_40_TO_13``: ``classMapping13.labels13`` of ``class13Mapping.mat``:
  40-class id ``c`` -> 13-class id ``MAP_40_TO_13[c - 1]`` (1..13).
- ``NYU40_CLASSES`` / ``NYU13_CLASSES``: the class names in id order.

Tests compare every table with the real ``.mat`` files. The training
convention (0 unlabeled -> 255 ignore, ``c`` -> ``c - 1``) is applied by
:func:`nyudv2_label_lut`.
"""
import colorsys
from typing import List, Tuple

import numpy as np

IGNORE_INDEX = 255
NUM_RAW_CLASSES = 894

NYU40_CLASSES = ('wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table',
                 'door', 'window', 'bookshelf', 'picture', 'counter', 'blinds',
                 'desk', 'shelves', 'curtain', 'dresser', 'pillow', 'mirror',
                 'floor mat', 'clothes', 'ceiling', 'books', 'refridgerator',
                 'television', 'paper', 'towel', 'shower curtain', 'box',
                 'whiteboard', 'person', 'night stand', 'toilet', 'sink',
                 'lamp', 'bathtub', 'bag', 'otherstructure', 'otherfurniture',
                 'otherprop')

NYU13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
                 'objects', 'picture', 'sofa', 'table', 'tv', 'wall', 'window')

MAP_894_TO_40 = (
    40, 40, 3, 22, 5, 40, 12, 38, 40, 40, 2, 39, 40, 40, 26, 40, 24, 40, 7, 40,
    1, 40, 40, 34, 38, 29, 40, 8, 40, 40, 40, 40, 38, 40, 40, 14, 40, 38, 40,
    40, 40, 15, 39, 40, 30, 40, 40, 39, 40, 39, 38, 40, 38, 40, 37, 40, 38, 38,
    9, 40, 40, 38, 40, 11, 38, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 38, 13, 40, 40, 6, 40, 23, 40, 39, 10, 16, 40, 40, 40, 40, 38, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 38, 40, 39, 40, 40, 40, 40, 39, 38, 40, 40, 40,
    40, 40, 40, 18, 40, 40, 19, 28, 33, 40, 40, 40, 40, 40, 40, 40, 40, 40, 38,
    27, 36, 40, 40, 40, 40, 21, 40, 20, 35, 40, 40, 40, 40, 40, 40, 40, 40, 38,
    40, 40, 40, 4, 32, 40, 40, 39, 40, 39, 40, 40, 40, 40, 40, 17, 40, 40, 25,
    40, 39, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 39, 38, 38, 40, 40, 39, 40, 39, 40, 38, 39, 38, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 39, 40, 38, 40, 40, 38, 38, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 38, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 39, 40, 40, 40, 38, 40, 40, 39, 40, 40, 38, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 31, 40, 40, 40, 40, 40, 40, 40, 38, 40, 40, 38, 39,
    39, 40, 40, 40, 40, 40, 40, 40, 40, 40, 38, 40, 39, 40, 40, 39, 40, 40, 40,
    38, 40, 40, 40, 40, 40, 40, 40, 40, 38, 39, 40, 40, 40, 40, 40, 40, 38, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 38, 39, 40, 40, 40, 40, 40, 40, 40,
    39, 40, 40, 40, 40, 40, 40, 38, 40, 40, 40, 38, 40, 39, 40, 40, 40, 39, 39,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 39, 39, 40, 40, 39, 39, 40, 40, 40, 40, 38, 40, 40, 38, 39,
    39, 40, 39, 40, 39, 38, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40,
    38, 40, 39, 40, 40, 40, 40, 40, 39, 39, 40, 40, 40, 40, 40, 40, 39, 39, 40,
    40, 38, 39, 39, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 39, 40, 40, 40, 40,
    39, 40, 40, 40, 40, 40, 39, 40, 40, 39, 40, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 39, 38, 40, 40, 40, 40, 40, 40, 40, 39, 38, 39, 40,
    38, 39, 40, 39, 40, 39, 40, 40, 40, 40, 40, 40, 40, 40, 38, 40, 40, 40, 40,
    40, 38, 40, 40, 39, 40, 40, 40, 39, 40, 38, 40, 40, 40, 40, 40, 40, 40, 40,
    38, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 38,
    40, 40, 38, 40, 40, 38, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 38, 40, 40, 38, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 38, 38, 38, 40, 40, 40, 38, 40, 40, 40,
    38, 38, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40,
    38, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 38, 40, 38, 39, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 39, 40, 40, 40, 40, 38, 38, 40, 40,
    40, 38, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40,
    39, 40, 40, 39, 39, 40, 40, 40, 40, 40, 40, 40, 40, 39, 39, 39, 40, 40, 40,
    40, 39, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40, 39, 40, 40,
    40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 38, 40, 40, 40, 40, 40, 40,
    40, 39, 40, 40, 38, 40, 39, 40, 40, 40, 40, 38, 40, 40, 40, 40, 40, 38, 40,
    40, 40, 40, 40, 40, 40, 39, 40, 40, 40, 40, 40, 40, 40, 40, 40, 39, 40, 40)

MAP_40_TO_13 = (12, 5, 6, 1, 4, 9, 10, 12, 13, 6, 8, 6, 13, 10, 6, 13, 6, 7, 7,
                5, 7, 3, 2, 6, 11, 7, 7, 7, 7, 7, 7, 6, 7, 7, 7, 7, 7, 7, 6, 7)

NYU894_NAMES = (
    'book', 'bottle', 'cabinet', 'ceiling', 'chair', 'cone', 'counter',
    'dishwasher', 'faucet', 'fire extinguisher', 'floor', 'garbage bin',
    'microwave', 'paper towel dispenser', 'paper', 'pot', 'refridgerator',
    'stove burner', 'table', 'unknown', 'wall', 'bowl', 'magnet', 'sink',
    'air vent', 'box', 'door knob', 'door', 'scissor', 'tape dispenser',
    'telephone cord', 'telephone', 'track light', 'cork board', 'cup', 'desk',
    'laptop', 'air duct', 'basket', 'camera', 'pipe', 'shelves',
    'stacked chairs', 'styrofoam object', 'whiteboard', 'computer', 'keyboard',
    'ladder', 'monitor', 'stand', 'bar', 'motion camera', 'projector screen',
    'speaker', 'bag', 'clock', 'green screen', 'mantel', 'window', 'ball',
    'hole puncher', 'light', 'manilla envelope', 'picture', 'mail shelf',
    'printer', 'stapler', 'fax machine', 'folder', 'jar', 'magazine', 'ruler',
    'cable modem', 'fan', 'file', 'hand sanitizer', 'paper rack', 'vase',
    'air conditioner', 'blinds', 'flower', 'plant', 'sofa', 'stereo', 'books',
    'exit sign', 'room divider', 'bookshelf', 'curtain', 'projector', 'modem',
    'wire', 'water purifier', 'column', 'hooks', 'hanging hooks', 'pen',
    'electrical outlet', 'doll', 'eraser', 'pencil holder', 'water carboy',
    'mouse', 'cable rack', 'wire rack', 'flipboard', 'map', 'paper cutter',
    'tape', 'thermostat', 'heater', 'circuit breaker box', 'paper towel',
    'stamp', 'duster', 'poster case', 'whiteboard marker', 'ethernet jack',
    'pillow', 'hair brush', 'makeup brush', 'mirror', 'shower curtain',
    'toilet', 'toiletries bag', 'toothbrush holder', 'toothbrush',
    'toothpaste', 'platter', 'rug', 'squeeze tube', 'shower cap', 'soap',
    'towel rod', 'towel', 'bathtub', 'candle', 'tissue box', 'toilet paper',
    'container', 'clothes', 'electric toothbrush', 'floor mat', 'lamp', 'drum',
    'flower pot', 'banana', 'candlestick', 'shoe', 'stool', 'urn', 'earplugs',
    'mailshelf', 'placemat', 'excercise ball', 'alarm clock', 'bed',
    'night stand', 'deoderant', 'headphones', 'headboard', 'basketball hoop',
    'foot rest', 'laundry basket', 'sock', 'football', 'mens suit',
    'cable box', 'dresser', 'dvd player', 'shaver', 'television',
    'contact lens solution bottle', 'drawer', 'remote control', 'cologne',
    'stuffed animal', 'lint roller', 'tray', 'lock', 'purse', 'toy bottle',
    'crate', 'vasoline', 'gift wrapping roll', 'wall decoration', 'hookah',
    'radio', 'bicycle', 'pen box', 'mask', 'shorts', 'hat', 'hockey glove',
    'hockey stick', 'vuvuzela', 'dvd', 'chessboard', 'suitcase', 'calculator',
    'flashcard', 'staple remover', 'umbrella', 'bench', 'yoga mat', 'backpack',
    'cd', 'sign', 'hangers', 'notebook', 'hanger', 'security camera',
    'folders', 'clothing hanger', 'stairs', 'glass rack', 'saucer', 'tag',
    'dolly', 'machine', 'trolly', 'shopping baskets', 'gate', 'bookrack',
    'blackboard', 'coffee bag', 'coffee packet', 'hot water heater', 'muffins',
    'napkin dispenser', 'plaque', 'plastic tub', 'plate', 'coffee machine',
    'napkin holder', 'radiator', 'coffee grinder', 'oven', 'plant pot',
    'scarf', 'spice rack', 'stove', 'tea kettle', 'napkin', 'bag of chips',
    'bread', 'cutting board', 'dish brush', 'serving spoon', 'sponge',
    'toaster', 'cooking pan', 'kitchen items', 'ladel', 'spatula',
    'spice stand', 'trivet', 'knife rack', 'knife', 'baking dish',
    'dish scrubber', 'drying rack', 'vessel', 'kichen towel', 'tin foil',
    'kitchen utensil', 'utensil', 'blender', 'garbage bag', 'sink protector',
    'box of ziplock bags', 'spice bottle', 'pitcher', 'pizza box',
    'toaster oven', 'step stool', 'vegetable peeler', 'washing machine',
    'can opener', 'can of food', 'paper towel holder', 'spoon stand', 'spoon',
    'wooden kitchen utensils', 'bag of flour', 'fruit', 'sheet of metal',
    'waffle maker', 'cake', 'cell phone', 'tv stand', 'tablecloth',
    'wine glass', 'sculpture', 'wall stand', 'iphone', 'coke bottle', 'piano',
    'wine rack', 'guitar', 'light switch', 'shirts in hanger', 'router',
    'glass pot', 'cart', 'vacuum cleaner', 'bin', 'coins', 'hand sculpture',
    'ipod', 'jersey', 'blanket', 'ironing board', 'pen stand', 'mens tie',
    'glass baking dish', 'utensils', 'frying pan', 'shopping cart',
    'plastic bowl', 'wooden container', 'onion', 'potato', 'jacket', 'dvds',
    'surge protector', 'tumbler', 'broom', 'can', 'crock pot', 'person',
    'salt shaker', 'wine bottle', 'apple', 'eye glasses', 'menorah',
    'bicycle helmet', 'fire alarm', 'water fountain', 'humidifier', 'necklace',
    'chandelier', 'barrel', 'chest', 'decanter', 'wooden utensils', 'globe',
    'sheets', 'fork', 'napkin ring', 'gift wrapping', 'bed sheets',
    'spot light', 'lighting track', 'cannister', 'coffee table',
    'mortar and pestle', 'stack of plates', 'ottoman', 'server',
    'salt container', 'utensil container', 'phone jack', 'switchbox',
    'casserole dish', 'oven handle', 'whisk', 'dish cover', 'electric mixer',
    'decorative platter', 'drawer handle', 'fireplace', 'stroller', 'bookend',
    'table runner', 'typewriter', 'ashtray', 'key', 'suit jacket',
    'range hood', 'cleaning wipes', 'six pack of beer', 'decorative plate',
    'watch', 'balloon', 'ipad', 'coaster', 'whiteboard eraser', 'toy',
    'toys basket', 'toy truck', 'classroom board', 'chart stand',
    'picture of fish', 'plastic box', 'pencil', 'carton', 'walkie talkie',
    'binder', 'coat hanger', 'filing shelves', 'plastic crate', 'plastic rack',
    'plastic tray', 'flag', 'poster board', 'lunch bag', 'board',
    'leg of a girl', 'file holder', 'chart', 'glass pane', 'cardboard tube',
    'bassinet', 'toy car', 'toy shelf', 'toy bin', 'toys shelf',
    'educational display', 'placard', 'soft toy group', 'soft toy', 'toy cube',
    'toy cylinder', 'toy rectangle', 'toy triangle', 'bucket', 'chalkboard',
    'game table', 'storage shelvesbooks', 'toy cuboid', 'toy tree',
    'wooden toy', 'toy box', 'toy phone', 'toy sink', 'toyhouse', 'notecards',
    'toy trucks', 'wall hand sanitizer dispenser', 'cap stand', 'music stereo',
    'toys rack', 'display board', 'lid of jar', 'stacked bins  boxes',
    'stacked plastic racks', 'storage rack', 'roll of paper towels', 'cables',
    'power surge', 'cardboard sheet', 'banister', 'show piece',
    'pepper shaker', 'kitchen island', 'excercise equipment', 'treadmill',
    'ornamental plant', 'piano bench', 'sheet music', 'grandfather clock',
    'iron grill', 'pen holder', 'toy doll', 'globe stand', 'telescope',
    'magazine holder', 'file container', 'paper holder', 'flower box',
    'pyramid', 'desk mat', 'cordless phone', 'desk drawer', 'envelope',
    'window frame', 'id card', 'file stand', 'paper weight', 'toy plane',
    'money', 'papers', 'comforter', 'crib', 'doll house', 'toy chair',
    'toy sofa', 'plastic chair', 'toy house', 'child carrier', 'cloth bag',
    'cradle', 'baby chair', 'chart roll', 'toys box', 'railing',
    'clothing dryer', 'clothing washer', 'laundry detergent jug',
    'clothing detergent', 'bottle of soap', 'box of paper', 'trolley',
    'hand sanitizer dispenser', 'soap holder', 'water dispenser', 'photo',
    'water cooler', 'foosball table', 'crayon', 'hoola hoop', 'horse toy',
    'plastic toy container', 'pool table', 'game system', 'pool sticks',
    'console system', 'video game', 'pool ball', 'trampoline', 'tricycle',
    'wii', 'furniture', 'alarm', 'toy table', 'ornamental item',
    'copper vessel', 'stick', 'car', 'mezuza', 'toy cash register', 'lid',
    'paper bundle', 'business cards', 'clipboard', 'flatbed scanner',
    'paper tray', 'mouse pad', 'display case', 'tree sculpture', 'basketball',
    'fiberglass case', 'framed certificate', 'cordless telephone', 'shofar',
    'trophy', 'cleaner', 'cloth drying stand', 'electric box', 'furnace',
    'piece of wood', 'wooden pillar', 'drying stand', 'cane',
    'clothing drying rack', 'iron box', 'excercise machine', 'sheet', 'rope',
    'sticks', 'wooden planks', 'toilet plunger', 'bar of soap',
    'toilet bowl brush', 'light bulb', 'drain', 'faucet handle', 'nailclipper',
    'shaving cream', 'rolled carpet', 'clothing iron', 'window cover',
    'charger and wire', 'quilt', 'mattress', 'hair dryer', 'stones',
    'pepper grinder', 'cat cage', 'dish rack', 'curtain rod', 'calendar',
    'head phones', 'cd disc', 'head phone', 'usb drive', 'water heater', 'pan',
    'tuna cans', 'baby gate', 'spoon sets', 'cans of cat food', 'cat',
    'flower basket', 'fruit platter', 'grapefruit', 'kiwi', 'hand blender',
    'knobs', 'vessels', 'cell phone charger', 'wire basket',
    'tub of tupperware', 'candelabra', 'litter box', 'shovel', 'cat bed',
    'door way', 'belt', 'surge protect', 'glass', 'console controller',
    'shoe rack', 'door frame', 'computer disk', 'briefcase', 'mail tray',
    'file pad', 'letter stand', 'plastic cup of coffee', 'glass box',
    'ping pong ball', 'ping pong racket', 'ping pong table', 'tennis racket',
    'ping pong racquet', 'xbox', 'electric toothbrush base', 'toilet brush',
    'toiletries', 'razor', 'bottle of contact lens solution',
    'contact lens case', 'cream', 'glass container', 'container of skin cream',
    'soap dish', 'scale', 'soap stand', 'cactus', 'door  window  reflection',
    'ceramic frog', 'incense candle', 'storage space', 'door lock',
    'toilet paper holder', 'tissue', 'personal care liquid', 'shower head',
    'shower knob', 'knob', 'cream tube', 'perfume box', 'perfume',
    'back scrubber', 'door facing trimreflection', 'doorreflection',
    'light switchreflection', 'medicine tube', 'wallet', 'soap tray',
    'door curtain', 'shower pipe', 'face wash cream', 'flashlight',
    'shower base', 'window shelf', 'shower hose', 'toothpaste holder',
    'soap box', 'incense holder', 'conch shell', 'roll of toilet paper',
    'shower tube', 'bottle of listerine', 'bottle of hand wash liquid',
    'tea pot', 'lazy susan', 'avocado', 'fruit stand', 'fruitplate',
    'oil container', 'package of water', 'bottle of liquid', 'door way arch',
    'jug', 'bulb', 'bagel', 'bag of bagels', 'banana peel', 'bag of oreo',
    'flask', 'collander', 'brick', 'torch', 'dog bowl', 'wooden plank', 'eggs',
    'grill', 'dog', 'chimney', 'dog cage', 'orange plastic cap', 'glass set',
    'vessel set', 'mellon', 'aluminium foil', 'orange', 'peach', 'tea coaster',
    'butterfly sculpture', 'corkscrew', 'heating tray', 'food processor',
    'corn', 'squash', 'watermellon', 'vegetables', 'celery', 'glass dish',
    'hot dogs', 'plastic dish', 'vegetable', 'sticker', 'chapstick', 'sifter',
    'fruit basket', 'glove', 'measuring cup', 'water filter', 'wine accessory',
    'dishes', 'file box', 'ornamental pot', 'dog toy', 'salt and pepper',
    'electrical kettle', 'kitchen container plastic', 'pineapple', 'suger jar',
    'steamer', 'charger', 'mug holder', 'orange juicer', 'juicer',
    'bag of hot dog buns', 'hamburger bun', 'mug hanger', 'bottle of ketchup',
    'toy kitchen', 'food wrapped on a tray', 'kitchen utensils', 'oven mitt',
    'bottle of comet', 'wooden utensil', 'decorative dish', 'handle', 'label',
    'flask set', 'cooking pot cover', 'tupperware', 'garlic', 'tissue roll',
    'lemon', 'wine', 'decorative bottle', 'wire tray', 'tea cannister',
    'clothing hamper', 'guitar case', 'wardrobe', 'boomerang', 'button',
    'karate belts', 'medal', 'window seat', 'window box', 'necklace holder',
    'beeper', 'webcam', 'fish tank', 'luggage', 'life jacket', 'shoelace',
    'pen cup', 'eyeball plastic ball', 'toy pyramid', 'model boat',
    'certificate', 'puppy toy', 'wire board', 'quill', 'canister', 'toy boat',
    'antenna', 'bean bag', 'lint comb', 'travel bag', 'wall divider',
    'toy chest', 'headband', 'luggage rack', 'bunk bed', 'lego', 'yarmulka',
    'package of bedroom sheets', 'bedding package', 'comb', 'dollar bill',
    'pig', 'storage bin', 'storage chest', 'slide', 'playpen',
    'electronic drumset', 'ipod dock', 'microphone', 'music keyboard',
    'music stand', 'microphone stand', 'album', 'kinect', 'inkwell',
    'baseball', 'decorative bowl', 'book holder', 'toy horse', 'desser',
    'toy apple', 'toy dog', 'scenary', 'drawer knob', 'shoe hanger', 'tent',
    'figurine', 'soccer ball', 'hand weight', 'magic 8ball',
    'bottle of perfume', 'sleeping bag', 'decoration item', 'envelopes',
    'trinket', 'hand fan', 'sculpture of the chrysler building',
    'sculpture of the eiffel tower', 'sculpture of the empire state building',
    'jeans', 'garage door', 'case', 'rags', 'decorative item', 'toy stroller',
    'shelf frame', 'cat house', 'can of beer', 'dog bed', 'lamp shade',
    'bracelet', 'reflection of window shutters', 'decorative egg',
    'indoor fountain', 'photo album', 'decorative candle', 'walkietalkie',
    'serving dish', 'floor trim', 'mini display platform', 'american flag',
    'vhs tapes', 'throw', 'newspapers', 'mantle', 'package of bottled water',
    'serving platter', 'display platter', 'centerpiece', 'tea box',
    'gold piece', 'wreathe', 'lectern', 'hammer', 'matchbox', 'pepper',
    'yellow pepper', 'duck', 'eggplant', 'glass ware', 'sewing machine',
    'rolled up rug', 'doily', 'coffee pot', 'torah')


def nyudv2_palette(num_classes: int) -> List[List[int]]:
    """A fixed, distinct RGB colour per class (golden-ratio hues).

    Args:
        num_classes (int): Number of classes.

    Returns:
        list[list[int]]: ``num_classes`` RGB triplets in 0..255.
    """
    palette = []
    for idx in range(num_classes):
        hue = (idx * 0.618033988749895) % 1.0
        saturation = 0.55 + 0.225 * (idx * 7 % 3)
        value = 0.6 + 0.4 * (idx * 5 % 4) / 3
        rgb = colorsys.hsv_to_rgb(hue, saturation, value)
        palette.append([int(round(c * 255)) for c in rgb])
    return palette


def nyudv2_classes(num_classes: int) -> Tuple[str, ...]:
    """Class names of the 40- or 13-class NYUD-v2 protocol.

    Args:
        num_classes (int): 40 or 13.

    Returns:
        tuple[str]: The names in training-id order (id ``c - 1``).
    """
    if num_classes == 40:
        return NYU40_CLASSES
    if num_classes == 13:
        return NYU13_CLASSES
    raise ValueError(f'NYUD-v2 has 40 or 13 classes, got {num_classes!r}')


def nyudv2_label_lut(num_classes: int, source: str) -> np.ndarray:
    """Lookup table from stored labels to training ids (255 = ignore).

    ``lut[label]`` is the training id of a stored label: 0 (unlabeled) maps
    to 255, every other label to its 40- or 13-class id minus one.

    Args:
        num_classes (int): 40 or 13 output classes.
        source (str): ``'nyu894'`` for raw class ids (0..894, the labeled
            ``.mat``) or ``'nyu40'`` for 40-class ids (0..40, PNG layouts).

    Returns:
        np.ndarray: uint8 table of length 895 (``'nyu894'``) or 41
        (``'nyu40'``).
    """
    nyudv2_classes(num_classes)
    to_40 = np.arange(41, dtype=np.int64)
    if source == 'nyu894':
        to_40 = np.array((0, ) + MAP_894_TO_40, dtype=np.int64)
    elif source != 'nyu40':
        raise ValueError(
            f"label source must be 'nyu894' or 'nyu40', got {source!r}")
    if num_classes == 13:
        to_13 = np.array((0, ) + MAP_40_TO_13, dtype=np.int64)
        to_40 = to_13[to_40]
    lut = np.where(to_40 == 0, IGNORE_INDEX, to_40 - 1)
    return lut.astype(np.uint8)
