{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 5,
   "revision": 0,
   "architecture": "x64",
   "modernui": 1
  },
  "classnamespace": "box",
  "rect": [
   40,
   60,
   1960,
   1200
  ],
  "openinpresentation": 0,
  "default_fontsize": 12.0,
  "default_fontname": "Arial",
  "gridsize": [
   15.0,
   15.0
  ],
  "boxes": [
   {
    "box": {
     "id": "obj-1",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      20,
      10,
      900,
      20
     ],
     "text": "s2s_live receiver for Max. s2s-live run --target 127.0.0.1:9000:max (floats 0..1) or the default s2s profile (units: docs/osc.md). Route tree below: one [route] per address group."
    }
   },
   {
    "box": {
     "id": "obj-2",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      20,
      40,
      105,
      22
     ],
     "text": "udpreceive 9000"
    }
   },
   {
    "box": {
     "id": "obj-3",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 7,
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      20,
      80,
      556,
      22
     ],
     "text": "route /s2s/level /s2s/bands /s2s/onset /s2s/beat /s2s/bpm /s2s/frame"
    }
   },
   {
    "box": {
     "id": "obj-4",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 5,
     "outlettype": [
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      20,
      120,
      540,
      22
     ],
     "text": "route /s2s/genre /s2s/genre/id /s2s/genre/probs /s2s/genre/changed"
    }
   },
   {
    "box": {
     "id": "obj-5",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 9,
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      20,
      160,
      900,
      22
     ],
     "text": "route /s2s/emotion /s2s/emotion/valence /s2s/emotion/arousal /s2s/emotion/label /s2s/emotion/probs /s2s/emotion/changed /s2s/emotion/rules /s2s/emotion/rules/label"
    }
   },
   {
    "box": {
     "id": "obj-6",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 6,
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      20,
      200,
      580,
      22
     ],
     "text": "route /s2s/latent /s2s/latent/xy /s2s/key /s2s/key/id /s2s/key/strength"
    }
   },
   {
    "box": {
     "id": "obj-7",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 18,
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      20,
      240,
      900,
      22
     ],
     "text": "route /s2s/features/rms /s2s/features/peak /s2s/features/dbfs /s2s/features/tempo /s2s/features/f0 /s2s/features/voicing /s2s/features/centroid /s2s/features/rolloff /s2s/features/bandwidth /s2s/features/zcr /s2s/features/flatness /s2s/features/envelope /s2s/features/mfcc /s2s/features/contrast /s2s/features/chroma /s2s/features/instruments /s2s/features/vocal"
    }
   },
   {
    "box": {
     "id": "obj-8",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 10,
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      20,
      280,
      900,
      22
     ],
     "text": "route /s2s/image /s2s/image/started /s2s/error /s2s/pong /s2s/ack /s2s/status /s2s/status/frames /s2s/image/progress /s2s/image/video"
    }
   },
   {
    "box": {
     "id": "obj-9",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 7,
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      20,
      320,
      836,
      22
     ],
     "text": "route /s2s/meta/version /s2s/meta/profile /s2s/meta/rates /s2s/meta/hop /s2s/meta/output /s2s/meta/done"
    }
   },
   {
    "box": {
     "id": "obj-10",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      20,
      360,
      133,
      22
     ],
     "text": "print s2s-unhandled"
    }
   },
   {
    "box": {
     "id": "obj-11",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      20,
      375,
      400,
      20
     ],
     "text": "level / bands / onset / bpm / beat / frame"
    }
   },
   {
    "box": {
     "id": "obj-12",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      20,
      400,
      20,
      100
     ],
     "floatoutput": 1,
     "size": 1.0
    }
   },
   {
    "box": {
     "id": "obj-13",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      60,
      400,
      80,
      100
     ],
     "size": 3,
     "setminmax": [
      0.0,
      1.0
     ]
    }
   },
   {
    "box": {
     "id": "obj-14",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      160,
      400,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-15",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      160,
      430,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-16",
     "maxclass": "button",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      "bang"
     ],
     "patching_rect": [
      240,
      400,
      24,
      24
     ]
    }
   },
   {
    "box": {
     "id": "obj-17",
     "maxclass": "number",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      240,
      430,
      50,
      22
     ]
    }
   },
   {
    "box": {
     "id": "obj-18",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      160,
      460,
      70,
      22
     ],
     "text": "unpack i f"
    }
   },
   {
    "box": {
     "id": "obj-19",
     "maxclass": "number",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      160,
      490,
      50,
      22
     ]
    }
   },
   {
    "box": {
     "id": "obj-20",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      220,
      490,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-21",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      320,
      375,
      400,
      20
     ],
     "text": "genre: label, confidence, id, probabilities (bars: as many as the model has labels)"
    }
   },
   {
    "box": {
     "id": "obj-22",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      320,
      400,
      70,
      22
     ],
     "text": "unpack s f"
    }
   },
   {
    "box": {
     "id": "obj-23",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      320,
      430,
      77,
      22
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-24",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      320,
      460,
      140,
      22
     ],
     "text": ""
    }
   },
   {
    "box": {
     "id": "obj-25",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      470,
      460,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-26",
     "maxclass": "number",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      470,
      490,
      50,
      22
     ]
    }
   },
   {
    "box": {
     "id": "obj-27",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      320,
      490,
      140,
      80
     ],
     "size": 10,
     "setminmax": [
      0.0,
      1.0
     ],
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-28",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      320,
      580,
      161,
      22
     ],
     "text": "print s2s-genre-changed"
    }
   },
   {
    "box": {
     "id": "obj-29",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      560,
      375,
      400,
      20
     ],
     "text": "emotion: valence (x) / arousal (y), label; rules when no model"
    }
   },
   {
    "box": {
     "id": "obj-30",
     "maxclass": "pictslider",
     "numinlets": 2,
     "numoutlets": 2,
     "outlettype": [
      "int",
      "int"
     ],
     "patching_rect": [
      560,
      400,
      100,
      100
     ],
     "bottomvalue": 0,
     "topvalue": 100,
     "leftvalue": 0,
     "rightvalue": 100
    }
   },
   {
    "box": {
     "id": "obj-31",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      670,
      400,
      140,
      22
     ],
     "text": "vexpr int($f1 * 100)"
    }
   },
   {
    "box": {
     "id": "obj-32",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      670,
      430,
      70,
      22
     ],
     "text": "unpack i i"
    }
   },
   {
    "box": {
     "id": "obj-33",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      670,
      460,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-34",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      740,
      460,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-35",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      560,
      510,
      77,
      22
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-36",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      560,
      540,
      140,
      22
     ],
     "text": ""
    }
   },
   {
    "box": {
     "id": "obj-37",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      710,
      510,
      60,
      60
     ],
     "size": 4,
     "setminmax": [
      0.0,
      1.0
     ],
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-38",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      560,
      580,
      175,
      22
     ],
     "text": "print s2s-emotion-changed"
    }
   },
   {
    "box": {
     "id": "obj-39",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      800,
      375,
      400,
      20
     ],
     "text": "latent map position, latent vector, key"
    }
   },
   {
    "box": {
     "id": "obj-40",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      800,
      400,
      160,
      60
     ],
     "size": 128,
     "setminmax": [
      -4.0,
      4.0
     ],
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-41",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      800,
      470,
      70,
      22
     ],
     "text": "unpack f f"
    }
   },
   {
    "box": {
     "id": "obj-42",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      800,
      500,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-43",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      870,
      500,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-44",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      800,
      530,
      77,
      22
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-45",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      800,
      560,
      140,
      22
     ],
     "text": ""
    }
   },
   {
    "box": {
     "id": "obj-46",
     "maxclass": "number",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      950,
      560,
      50,
      22
     ]
    }
   },
   {
    "box": {
     "id": "obj-47",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      1010,
      560,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-48",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      20,
      615,
      700,
      20
     ],
     "text": "features (scalars: number boxes; mfcc/contrast/chroma/instruments: multisliders)"
    }
   },
   {
    "box": {
     "id": "obj-49",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      20,
      640,
      90,
      20
     ],
     "text": "rms"
    }
   },
   {
    "box": {
     "id": "obj-50",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      20,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-51",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      115,
      640,
      90,
      20
     ],
     "text": "peak"
    }
   },
   {
    "box": {
     "id": "obj-52",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      115,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-53",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      210,
      640,
      90,
      20
     ],
     "text": "dbfs"
    }
   },
   {
    "box": {
     "id": "obj-54",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      210,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-55",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      305,
      640,
      90,
      20
     ],
     "text": "tempo"
    }
   },
   {
    "box": {
     "id": "obj-56",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      305,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-57",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      400,
      640,
      90,
      20
     ],
     "text": "f0"
    }
   },
   {
    "box": {
     "id": "obj-58",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      400,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-59",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      495,
      640,
      90,
      20
     ],
     "text": "voicing"
    }
   },
   {
    "box": {
     "id": "obj-60",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      495,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-61",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      590,
      640,
      90,
      20
     ],
     "text": "centroid"
    }
   },
   {
    "box": {
     "id": "obj-62",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      590,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-63",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      685,
      640,
      90,
      20
     ],
     "text": "rolloff"
    }
   },
   {
    "box": {
     "id": "obj-64",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      685,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-65",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      780,
      640,
      90,
      20
     ],
     "text": "bandwidth"
    }
   },
   {
    "box": {
     "id": "obj-66",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      780,
      660,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-67",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      20,
      710,
      90,
      20
     ],
     "text": "zcr"
    }
   },
   {
    "box": {
     "id": "obj-68",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      20,
      730,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-69",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      115,
      710,
      90,
      20
     ],
     "text": "flatness"
    }
   },
   {
    "box": {
     "id": "obj-70",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      115,
      730,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-71",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      210,
      710,
      90,
      20
     ],
     "text": "envelope"
    }
   },
   {
    "box": {
     "id": "obj-72",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      210,
      730,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-73",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      305,
      710,
      90,
      20
     ],
     "text": "mfcc"
    }
   },
   {
    "box": {
     "id": "obj-74",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      305,
      730,
      90,
      40
     ],
     "size": 20,
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-75",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      400,
      710,
      90,
      20
     ],
     "text": "contrast"
    }
   },
   {
    "box": {
     "id": "obj-76",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      400,
      730,
      90,
      40
     ],
     "size": 7,
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-77",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      495,
      710,
      90,
      20
     ],
     "text": "chroma"
    }
   },
   {
    "box": {
     "id": "obj-78",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      495,
      730,
      90,
      40
     ],
     "size": 12,
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-79",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      590,
      710,
      90,
      20
     ],
     "text": "instruments"
    }
   },
   {
    "box": {
     "id": "obj-80",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      590,
      730,
      90,
      40
     ],
     "size": 8,
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-81",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      685,
      710,
      90,
      20
     ],
     "text": "vocal"
    }
   },
   {
    "box": {
     "id": "obj-82",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      685,
      730,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-83",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      20,
      775,
      700,
      20
     ],
     "text": "images: /s2s/image id path -> jit.matrix importmovie -> jit.pwindow; errors and replies print"
    }
   },
   {
    "box": {
     "id": "obj-84",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      20,
      800,
      70,
      22
     ],
     "text": "unpack i s"
    }
   },
   {
    "box": {
     "id": "obj-85",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      120,
      830,
      133,
      22
     ],
     "text": "prepend importmovie"
    }
   },
   {
    "box": {
     "id": "obj-86",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "bang",
      ""
     ],
     "patching_rect": [
      120,
      860,
      60,
      22
     ],
     "text": "t b l"
    }
   },
   {
    "box": {
     "id": "obj-87",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "jit_matrix",
      ""
     ],
     "patching_rect": [
      120,
      890,
      245,
      22
     ],
     "text": "jit.matrix s2s_image 4 char 512 512"
    }
   },
   {
    "box": {
     "id": "obj-88",
     "maxclass": "jit.pwindow",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "jit_matrix",
      ""
     ],
     "patching_rect": [
      120,
      920,
      256,
      256
     ]
    }
   },
   {
    "box": {
     "id": "obj-89",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420,
      800,
      161,
      22
     ],
     "text": "print s2s-image-started"
    }
   },
   {
    "box": {
     "id": "obj-90",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420,
      830,
      105,
      22
     ],
     "text": "print s2s-error"
    }
   },
   {
    "box": {
     "id": "obj-91",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420,
      860,
      98,
      22
     ],
     "text": "print s2s-pong"
    }
   },
   {
    "box": {
     "id": "obj-92",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420,
      890,
      91,
      22
     ],
     "text": "print s2s-ack"
    }
   },
   {
    "box": {
     "id": "obj-93",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420,
      920,
      112,
      22
     ],
     "text": "print s2s-status"
    }
   },
   {
    "box": {
     "id": "obj-94",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420,
      950,
      161,
      22
     ],
     "text": "print s2s-status-frames"
    }
   },
   {
    "box": {
     "id": "obj-95",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      670,
      800,
      98,
      22
     ],
     "text": "print s2s-meta"
    }
   },
   {
    "box": {
     "id": "obj-96",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      700,
      775,
      400,
      20
     ],
     "text": "control: click to send to s2s-live's control port (docs/osc.md)"
    }
   },
   {
    "box": {
     "id": "obj-97",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      700,
      1000,
      154,
      22
     ],
     "text": "udpsend 127.0.0.1 9001"
    }
   },
   {
    "box": {
     "id": "obj-98",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      700,
      800,
      63,
      22
     ],
     "text": "/s2s/ping"
    }
   },
   {
    "box": {
     "id": "obj-99",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      920,
      800,
      63,
      22
     ],
     "text": "/s2s/meta"
    }
   },
   {
    "box": {
     "id": "obj-100",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      700,
      830,
      77,
      22
     ],
     "text": "/s2s/status"
    }
   },
   {
    "box": {
     "id": "obj-101",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      920,
      830,
      147,
      22
     ],
     "text": "/s2s/visuals/generate"
    }
   },
   {
    "box": {
     "id": "obj-102",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      700,
      860,
      133,
      22
     ],
     "text": "/s2s/visuals/auto 1"
    }
   },
   {
    "box": {
     "id": "obj-103",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      920,
      860,
      133,
      22
     ],
     "text": "/s2s/visuals/auto 0"
    }
   },
   {
    "box": {
     "id": "obj-104",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      700,
      890,
      91,
      22
     ],
     "text": "/s2s/hop 0.25"
    }
   },
   {
    "box": {
     "id": "obj-105",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      920,
      890,
      84,
      22
     ],
     "text": "/s2s/hop 0.5"
    }
   },
   {
    "box": {
     "id": "obj-106",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      700,
      920,
      126,
      22
     ],
     "text": "/s2s/smoothing 0.8"
    }
   },
   {
    "box": {
     "id": "obj-107",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      920,
      920,
      245,
      22
     ],
     "text": "/s2s/targets/add 127.0.0.1 9002 max"
    }
   },
   {
    "box": {
     "id": "obj-108",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      1140,
      800,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-109",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1140,
      830,
      112,
      22
     ],
     "text": "prepend /s2s/hop"
    }
   },
   {
    "box": {
     "id": "obj-progress-unpack",
     "maxclass": "newobj",
     "text": "unpack i f",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "int",
      "float"
     ],
     "patching_rect": [
      440,
      340,
      70,
      22
     ]
    }
   },
   {
    "box": {
     "id": "obj-progress-num",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "parameter_enable": 0,
     "patching_rect": [
      440,
      370,
      60,
      22
     ]
    }
   },
   {
    "box": {
     "id": "obj-progress-label",
     "maxclass": "comment",
     "text": "image progress 0..1",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      505,
      370,
      130,
      20
     ]
    }
   },
   {
    "box": {
     "id": "obj-gp-t",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      470,
      400,
      50,
      22
     ],
     "text": "t l l"
    }
   },
   {
    "box": {
     "id": "obj-gp-len",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      530,
      430,
      50,
      22
     ],
     "text": "zl len"
    }
   },
   {
    "box": {
     "id": "obj-gp-chg",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 3,
     "outlettype": [
      "",
      "int",
      "int"
     ],
     "patching_rect": [
      530,
      460,
      50,
      22
     ],
     "text": "change"
    }
   },
   {
    "box": {
     "id": "obj-gp-size",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      470,
      520,
      80,
      22
     ],
     "text": "prepend size"
    }
   },
   {
    "box": {
     "id": "obj-new-c",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      1320,
      40,
      600,
      20
     ],
     "text": "tagger outputs, renamed descriptors and label names (from /s2s/meta/labels/...)"
    }
   },
   {
    "box": {
     "id": "obj-new-r1",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 5,
     "outlettype": [
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      1320,
      80,
      430,
      22
     ],
     "text": "route /s2s/tags /s2s/tags/msd /s2s/tags/mtt /s2s/instruments"
    }
   },
   {
    "box": {
     "id": "obj-new-r2",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 7,
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      1320,
      120,
      760,
      22
     ],
     "text": "route /s2s/vocals /s2s/vocals/label /s2s/features/band_energy /s2s/features/vocal_band /s2s/vocals/male /s2s/vocals/female"
    }
   },
   {
    "box": {
     "id": "obj-new-r3",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 3,
     "outlettype": [
      "",
      "",
      ""
     ],
     "patching_rect": [
      1320,
      160,
      460,
      22
     ],
     "text": "route /s2s/meta/labels/genre/probs /s2s/meta/labels/instruments"
    }
   },
   {
    "box": {
     "id": "obj-new-c1",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      1320,
      210,
      600,
      20
     ],
     "text": "top tags (word probability x3); MSD and MTT tag probabilities (50 each)"
    }
   },
   {
    "box": {
     "id": "obj-tags-set",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1320,
      235,
      77,
      22
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-tags-msg",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1320,
      265,
      400,
      22
     ],
     "text": ""
    }
   },
   {
    "box": {
     "id": "obj-msd",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      1320,
      300,
      250,
      60
     ],
     "size": 50,
     "setminmax": [
      0.0,
      1.0
     ],
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-mtt",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      1590,
      300,
      250,
      60
     ],
     "size": 50,
     "setminmax": [
      0.0,
      1.0
     ],
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-new-c2",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      1320,
      380,
      600,
      20
     ],
     "text": "instruments (model; names below), vocals and its word, male / female vocals"
    }
   },
   {
    "box": {
     "id": "obj-ins-t",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      1320,
      405,
      50,
      22
     ],
     "text": "t l l"
    }
   },
   {
    "box": {
     "id": "obj-ins-len",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      1380,
      435,
      50,
      22
     ],
     "text": "zl len"
    }
   },
   {
    "box": {
     "id": "obj-ins-chg",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 3,
     "outlettype": [
      "",
      "int",
      "int"
     ],
     "patching_rect": [
      1380,
      465,
      50,
      22
     ],
     "text": "change"
    }
   },
   {
    "box": {
     "id": "obj-ins-size",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1380,
      495,
      80,
      22
     ],
     "text": "prepend size"
    }
   },
   {
    "box": {
     "id": "obj-ins-ms",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      1480,
      405,
      200,
      80
     ],
     "size": 10,
     "setminmax": [
      0.0,
      1.0
     ],
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-vocals",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      1700,
      405,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-vlabel-set",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1700,
      435,
      77,
      22
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-vlabel-msg",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1700,
      465,
      140,
      22
     ],
     "text": ""
    }
   },
   {
    "box": {
     "id": "obj-new-c3",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      1320,
      520,
      600,
      20
     ],
     "text": "band energies (descriptor, 8 bands) and vocal-band share"
    }
   },
   {
    "box": {
     "id": "obj-be",
     "maxclass": "multislider",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      1320,
      545,
      160,
      40
     ],
     "size": 8,
     "setminmax": [
      0.0,
      1.0
     ],
     "setstyle": 1
    }
   },
   {
    "box": {
     "id": "obj-vb",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      1500,
      545,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-new-c4",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      1320,
      600,
      600,
      20
     ],
     "text": "genre labels, in the order of the genre bars (from meta, re-sent after a model load)"
    }
   },
   {
    "box": {
     "id": "obj-glabels-set",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1320,
      625,
      77,
      22
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-glabels-msg",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1320,
      655,
      600,
      22
     ],
     "text": ""
    }
   },
   {
    "box": {
     "id": "obj-new-c5",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      1320,
      690,
      600,
      20
     ],
     "text": "instrument labels, in the order of the instrument bars"
    }
   },
   {
    "box": {
     "id": "obj-ilabels-set",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1320,
      715,
      77,
      22
     ],
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-ilabels-msg",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1320,
      745,
      600,
      22
     ],
     "text": ""
    }
   },
   {
    "box": {
     "id": "obj-new-c6",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      1320,
      800,
      600,
      40
     ],
     "text": "at load: re-add this patch as a max target on 9000, so s2s-live sends it the meta block (label names); click to ask again"
    }
   },
   {
    "box": {
     "id": "obj-lb",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      "bang"
     ],
     "patching_rect": [
      1320,
      845,
      60,
      22
     ],
     "text": "loadbang"
    }
   },
   {
    "box": {
     "id": "obj-lb-del",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      "bang"
     ],
     "patching_rect": [
      1320,
      875,
      80,
      22
     ],
     "text": "delay 1000"
    }
   },
   {
    "box": {
     "id": "obj-readd",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1320,
      905,
      245,
      22
     ],
     "text": "/s2s/targets/add 127.0.0.1 9000 max"
    }
   },
   {
    "box": {
     "id": "obj-vmale",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      1780,
      405,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-vfemale",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      1850,
      405,
      60,
      22
     ],
     "format": 6
    }
   },
   {
    "box": {
     "id": "obj-video-c",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      20,
      1190,
      900,
      20
     ],
     "text": "video loops: /s2s/image/video id path (a PNG sprite sheet: the loop's square frames side by side) -> jit.matrix importmovie @adapt 1 (takes the sheet's size) -> jit.pwindow"
    }
   },
   {
    "box": {
     "id": "obj-video-unpack",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "patching_rect": [
      20,
      1215,
      70,
      22
     ],
     "text": "unpack i s"
    }
   },
   {
    "box": {
     "id": "obj-video-print",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420,
      1215,
      145,
      22
     ],
     "text": "print s2s-image-video"
    }
   },
   {
    "box": {
     "id": "obj-video-prepend",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      120,
      1245,
      133,
      22
     ],
     "text": "prepend importmovie"
    }
   },
   {
    "box": {
     "id": "obj-video-t",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "bang",
      ""
     ],
     "patching_rect": [
      120,
      1275,
      60,
      22
     ],
     "text": "t b l"
    }
   },
   {
    "box": {
     "id": "obj-video-matrix",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "jit_matrix",
      ""
     ],
     "patching_rect": [
      120,
      1305,
      290,
      22
     ],
     "text": "jit.matrix s2s_video 4 char 4096 512 @adapt 1"
    }
   },
   {
    "box": {
     "id": "obj-video-pwindow",
     "maxclass": "jit.pwindow",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "jit_matrix",
      ""
     ],
     "patching_rect": [
      120,
      1335,
      512,
      64
     ]
    }
   },
   {
    "box": {
     "id": "obj-scene-auto",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      700,
      950,
      160,
      22
     ],
     "text": "/s2s/visuals/scene auto"
    }
   },
   {
    "box": {
     "id": "obj-scene-kaleido",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      920,
      950,
      175,
      22
     ],
     "text": "/s2s/visuals/scene kaleido"
    }
   },
   {
    "box": {
     "id": "obj-int-c",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      1140,
      930,
      150,
      20
     ],
     "text": "viewer intensity 0..2"
    }
   },
   {
    "box": {
     "id": "obj-int-num",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "",
      "bang"
     ],
     "patching_rect": [
      1140,
      955,
      60,
      22
     ],
     "format": 6,
     "minimum": 0.0,
     "maximum": 2.0
    }
   },
   {
    "box": {
     "id": "obj-int-prepend",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      1140,
      985,
      180,
      22
     ],
     "text": "prepend /s2s/visuals/intensity"
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "obj-2",
      0
     ],
     "destination": [
      "obj-3",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      6
     ],
     "destination": [
      "obj-4",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-4",
      4
     ],
     "destination": [
      "obj-5",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      8
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      5
     ],
     "destination": [
      "obj-7",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      17
     ],
     "destination": [
      "obj-8",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      9
     ],
     "destination": [
      "obj-9",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      0
     ],
     "destination": [
      "obj-12",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      1
     ],
     "destination": [
      "obj-13",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      2
     ],
     "destination": [
      "obj-14",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      4
     ],
     "destination": [
      "obj-15",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      3
     ],
     "destination": [
      "obj-16",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      3
     ],
     "destination": [
      "obj-17",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      5
     ],
     "destination": [
      "obj-18",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-18",
      0
     ],
     "destination": [
      "obj-19",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-18",
      1
     ],
     "destination": [
      "obj-20",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-4",
      0
     ],
     "destination": [
      "obj-22",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-22",
      0
     ],
     "destination": [
      "obj-23",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-23",
      0
     ],
     "destination": [
      "obj-24",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-22",
      1
     ],
     "destination": [
      "obj-25",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-4",
      1
     ],
     "destination": [
      "obj-26",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-4",
      3
     ],
     "destination": [
      "obj-28",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      0
     ],
     "destination": [
      "obj-31",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      6
     ],
     "destination": [
      "obj-31",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-31",
      0
     ],
     "destination": [
      "obj-32",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-32",
      0
     ],
     "destination": [
      "obj-30",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-32",
      1
     ],
     "destination": [
      "obj-30",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      1
     ],
     "destination": [
      "obj-33",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      2
     ],
     "destination": [
      "obj-34",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      3
     ],
     "destination": [
      "obj-35",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      7
     ],
     "destination": [
      "obj-35",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-35",
      0
     ],
     "destination": [
      "obj-36",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      4
     ],
     "destination": [
      "obj-37",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      5
     ],
     "destination": [
      "obj-38",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      0
     ],
     "destination": [
      "obj-40",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      1
     ],
     "destination": [
      "obj-41",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-41",
      0
     ],
     "destination": [
      "obj-42",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-41",
      1
     ],
     "destination": [
      "obj-43",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      2
     ],
     "destination": [
      "obj-44",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-44",
      0
     ],
     "destination": [
      "obj-45",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      3
     ],
     "destination": [
      "obj-46",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      4
     ],
     "destination": [
      "obj-47",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      0
     ],
     "destination": [
      "obj-50",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      1
     ],
     "destination": [
      "obj-52",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      2
     ],
     "destination": [
      "obj-54",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      3
     ],
     "destination": [
      "obj-56",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      4
     ],
     "destination": [
      "obj-58",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      5
     ],
     "destination": [
      "obj-60",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      6
     ],
     "destination": [
      "obj-62",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      7
     ],
     "destination": [
      "obj-64",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      8
     ],
     "destination": [
      "obj-66",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      9
     ],
     "destination": [
      "obj-68",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      10
     ],
     "destination": [
      "obj-70",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      11
     ],
     "destination": [
      "obj-72",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      12
     ],
     "destination": [
      "obj-74",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      13
     ],
     "destination": [
      "obj-76",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      14
     ],
     "destination": [
      "obj-78",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      15
     ],
     "destination": [
      "obj-80",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      16
     ],
     "destination": [
      "obj-82",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      0
     ],
     "destination": [
      "obj-84",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-84",
      1
     ],
     "destination": [
      "obj-85",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-85",
      0
     ],
     "destination": [
      "obj-86",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-86",
      1
     ],
     "destination": [
      "obj-87",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-86",
      0
     ],
     "destination": [
      "obj-87",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-87",
      0
     ],
     "destination": [
      "obj-88",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      1
     ],
     "destination": [
      "obj-89",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      2
     ],
     "destination": [
      "obj-90",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      3
     ],
     "destination": [
      "obj-91",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      4
     ],
     "destination": [
      "obj-92",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      5
     ],
     "destination": [
      "obj-93",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      6
     ],
     "destination": [
      "obj-94",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      0
     ],
     "destination": [
      "obj-95",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      1
     ],
     "destination": [
      "obj-95",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      2
     ],
     "destination": [
      "obj-95",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      3
     ],
     "destination": [
      "obj-95",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      4
     ],
     "destination": [
      "obj-95",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      5
     ],
     "destination": [
      "obj-95",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-98",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-99",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-100",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-101",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-102",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-103",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-104",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-105",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-106",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-107",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-108",
      0
     ],
     "destination": [
      "obj-109",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-109",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      7
     ],
     "destination": [
      "obj-progress-unpack",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-progress-unpack",
      1
     ],
     "destination": [
      "obj-progress-num",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-4",
      2
     ],
     "destination": [
      "obj-gp-t",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-gp-t",
      1
     ],
     "destination": [
      "obj-gp-len",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-gp-len",
      0
     ],
     "destination": [
      "obj-gp-chg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-gp-chg",
      0
     ],
     "destination": [
      "obj-gp-size",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-gp-size",
      0
     ],
     "destination": [
      "obj-27",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-gp-t",
      0
     ],
     "destination": [
      "obj-27",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      6
     ],
     "destination": [
      "obj-new-r1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r1",
      4
     ],
     "destination": [
      "obj-new-r2",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r2",
      6
     ],
     "destination": [
      "obj-new-r3",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r3",
      2
     ],
     "destination": [
      "obj-10",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-tags-set",
      0
     ],
     "destination": [
      "obj-tags-msg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r1",
      0
     ],
     "destination": [
      "obj-tags-set",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r1",
      1
     ],
     "destination": [
      "obj-msd",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r1",
      2
     ],
     "destination": [
      "obj-mtt",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-ins-t",
      1
     ],
     "destination": [
      "obj-ins-len",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-ins-len",
      0
     ],
     "destination": [
      "obj-ins-chg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-ins-chg",
      0
     ],
     "destination": [
      "obj-ins-size",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-ins-size",
      0
     ],
     "destination": [
      "obj-ins-ms",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-ins-t",
      0
     ],
     "destination": [
      "obj-ins-ms",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r1",
      3
     ],
     "destination": [
      "obj-ins-t",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r2",
      0
     ],
     "destination": [
      "obj-vocals",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-vlabel-set",
      0
     ],
     "destination": [
      "obj-vlabel-msg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r2",
      1
     ],
     "destination": [
      "obj-vlabel-set",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r2",
      2
     ],
     "destination": [
      "obj-be",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r2",
      3
     ],
     "destination": [
      "obj-vb",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-glabels-set",
      0
     ],
     "destination": [
      "obj-glabels-msg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r3",
      0
     ],
     "destination": [
      "obj-glabels-set",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-ilabels-set",
      0
     ],
     "destination": [
      "obj-ilabels-msg",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r3",
      1
     ],
     "destination": [
      "obj-ilabels-set",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-lb",
      0
     ],
     "destination": [
      "obj-lb-del",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-lb-del",
      0
     ],
     "destination": [
      "obj-readd",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-readd",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r2",
      4
     ],
     "destination": [
      "obj-vmale",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-new-r2",
      5
     ],
     "destination": [
      "obj-vfemale",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      8
     ],
     "destination": [
      "obj-video-unpack",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      8
     ],
     "destination": [
      "obj-video-print",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-video-unpack",
      1
     ],
     "destination": [
      "obj-video-prepend",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-video-prepend",
      0
     ],
     "destination": [
      "obj-video-t",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-video-t",
      1
     ],
     "destination": [
      "obj-video-matrix",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-video-t",
      0
     ],
     "destination": [
      "obj-video-matrix",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-video-matrix",
      0
     ],
     "destination": [
      "obj-video-pwindow",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-scene-auto",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-scene-kaleido",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-int-num",
      0
     ],
     "destination": [
      "obj-int-prepend",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-int-prepend",
      0
     ],
     "destination": [
      "obj-97",
      0
     ]
    }
   }
  ],
  "description": "s2s_live OSC receiver and controller (docs/osc.md)"
 }
}