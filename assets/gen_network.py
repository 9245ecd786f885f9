#!/usr/bin/env python3
# Regenerates network.geojson from the station table below (see SOURCES.md): python3 assets/gen_network.py
import json, re
# name -> (lat, lon) from the City of Chicago "CTA - System Information - List of 'L' Stops"
S = {}
def st(key, name, lat, lon): S[key] = (name, lat, lon)
for key,name,lat,lon in [
 # Red
 ("howard","Howard",42.019063,-87.672892),("jarvis","Jarvis",42.015876,-87.669092),("morse","Morse",42.008362,-87.665909),
 ("loyola","Loyola",42.001073,-87.661061),("granville","Granville",41.993664,-87.659202),("thorndale","Thorndale",41.990259,-87.659076),
 ("bryn-mawr","Bryn Mawr",41.983504,-87.65884),("berwyn","Berwyn",41.977984,-87.658668),("argyle","Argyle",41.973453,-87.65853),
 ("lawrence","Lawrence",41.969139,-87.658493),("wilson","Wilson",41.964273,-87.657588),("sheridan","Sheridan",41.953775,-87.654929),
 ("addison-red","Addison",41.947428,-87.653626),("belmont","Belmont",41.939751,-87.65338),("fullerton","Fullerton",41.925051,-87.652866),
 ("north-clybourn","North/Clybourn",41.910655,-87.649177),("clark-division","Clark/Division",41.90392,-87.631412),
 ("chicago-red","Chicago",41.896671,-87.628176),("grand-red","Grand",41.891665,-87.628021),("lake","Lake",41.884809,-87.627813),
 ("monroe-red","Monroe",41.880745,-87.627696),("jackson-red","Jackson",41.878153,-87.627596),("harrison","Harrison",41.874039,-87.627479),
 ("roosevelt","Roosevelt",41.867368,-87.627402),("cermak-chinatown","Cermak-Chinatown",41.853206,-87.630968),
 ("sox-35th","Sox-35th",41.831191,-87.630636),("47th-red","47th",41.810318,-87.63094),("garfield-red","Garfield",41.79542,-87.631157),
 ("63rd","63rd",41.780536,-87.630952),("69th","69th",41.768367,-87.625724),("79th","79th",41.750419,-87.625112),
 ("87th","87th",41.735372,-87.624717),("95th-dan-ryan","95th/Dan Ryan",41.722377,-87.624342),
 # Blue
 ("ohare","O'Hare",41.97766526,-87.90422307),("rosemont","Rosemont",41.983507,-87.859388),("cumberland","Cumberland",41.984246,-87.838028),
 ("harlem-ohare","Harlem (O'Hare branch)",41.98227,-87.8089),("jefferson-park","Jefferson Park",41.970634,-87.760892),
 ("montrose-blue","Montrose",41.961539,-87.743574),("irving-park-blue","Irving Park",41.952925,-87.729229),
 ("addison-blue","Addison",41.94738,-87.71906),("belmont-blue","Belmont",41.938132,-87.712359),("logan-square","Logan Square",41.929728,-87.708541),
 ("california-blue","California",41.921939,-87.69689),("western-blue-ohare","Western (O'Hare branch)",41.916157,-87.687364),
 ("damen-blue","Damen",41.909744,-87.677437),("division","Division",41.903355,-87.666496),("chicago-blue","Chicago",41.896075,-87.655214),
 ("grand-blue","Grand",41.891189,-87.647578),("clark-lake","Clark/Lake",41.885737,-87.630886),("washington","Washington",41.883164,-87.62944),
 ("monroe-blue","Monroe",41.880703,-87.629378),("jackson-blue","Jackson",41.878183,-87.629296),("lasalle","LaSalle",41.875568,-87.631722),
 ("clinton-blue","Clinton",41.875539,-87.640984),("uic-halsted","UIC-Halsted",41.875474,-87.649707),("racine","Racine",41.87592,-87.659458),
 ("illinois-medical-district","Illinois Medical District",41.875706,-87.673932),("western-blue-forest-park","Western (Forest Park branch)",41.875478,-87.688436),
 ("kedzie-homan","Kedzie-Homan",41.874341,-87.70604),("pulaski-blue","Pulaski",41.873797,-87.725663),("cicero-blue","Cicero",41.871574,-87.745154),
 ("austin-blue","Austin",41.870851,-87.776812),("oak-park-blue","Oak Park",41.872108,-87.791602),
 ("harlem-forest-park","Harlem (Forest Park branch)",41.87349,-87.806961),("forest-park","Forest Park",41.874257,-87.817318),
 # Green
 ("harlem-lake","Harlem/Lake",41.886848,-87.803176),("oak-park-green","Oak Park",41.886988,-87.793783),("ridgeland","Ridgeland",41.887159,-87.783661),
 ("austin-green","Austin",41.887293,-87.774135),("central","Central",41.887389,-87.76565),("laramie","Laramie",41.887163,-87.754986),
 ("cicero-green","Cicero",41.886519,-87.744698),("pulaski-green","Pulaski",41.885412,-87.725404),("conservatory","Conservatory",41.884904,-87.716523),
 ("kedzie-green","Kedzie",41.884321,-87.706155),("california-green","California",41.88422,-87.696234),("ashland-green","Ashland",41.885269,-87.666969),
 ("morgan","Morgan",41.885586,-87.652193),("clinton-green","Clinton",41.885678,-87.641782),("state-lake","State/Lake",41.88574,-87.627835),
 ("washington-wabash","Washington/Wabash",41.88322,-87.626189),("adams-wabash","Adams/Wabash",41.879507,-87.626037),
 ("cermak-mccormick-place","Cermak-McCormick Place",41.853115,-87.626402),("35th-bronzeville-iit","35th-Bronzeville-IIT",41.831677,-87.625826),
 ("indiana","Indiana",41.821732,-87.621371),("43rd","43rd",41.816462,-87.619021),("47th-green","47th",41.809209,-87.618826),
 ("51st","51st",41.80209,-87.618487),("garfield-green","Garfield",41.795172,-87.618327),("halsted-green","Halsted",41.778943,-87.644244),
 ("ashland-63rd","Ashland/63rd",41.77886,-87.663766),
 # Brown
 ("kimball","Kimball",41.967901,-87.713065),("kedzie-brown","Kedzie",41.965996,-87.708821),("francisco","Francisco",41.966046,-87.701644),
 ("rockwell","Rockwell",41.966115,-87.6941),("western-brown","Western",41.966163,-87.688502),("damen-brown","Damen",41.966286,-87.678639),
 ("montrose-brown","Montrose",41.961756,-87.675047),("irving-park-brown","Irving Park",41.954521,-87.674868),("addison-brown","Addison",41.947028,-87.674642),
 ("paulina","Paulina",41.943623,-87.670907),("southport","Southport",41.943744,-87.663619),("wellington","Wellington",41.936033,-87.653266),
 ("diversey","Diversey",41.932732,-87.653131),("armitage","Armitage",41.918217,-87.652644),("sedgwick","Sedgwick",41.910409,-87.639302),
 ("chicago-brown","Chicago",41.89681,-87.635924),("merchandise-mart","Merchandise Mart",41.888969,-87.633924),
 ("washington-wells","Washington/Wells",41.882695,-87.63378),("quincy","Quincy",41.878723,-87.63374),("lasalle-van-buren","LaSalle/Van Buren",41.8768,-87.631739),
 ("harold-washington-library","Harold Washington Library-State/Van Buren",41.876862,-87.628196),
 # Orange
 ("midway","Midway",41.78661,-87.737875),("pulaski-orange","Pulaski",41.799756,-87.724493),("kedzie-orange","Kedzie",41.804236,-87.704406),
 ("western-orange","Western",41.804546,-87.684019),("35th-archer","35th/Archer",41.829353,-87.680622),("ashland-orange","Ashland",41.839234,-87.665317),
 ("halsted-orange","Halsted",41.84678,-87.648088),
 # Pink (Ashland, Morgan, Clinton and the Loop are the Green Line's)
 ("54th-cermak","54th/Cermak",41.85177331,-87.75669201),("cicero-pink","Cicero",41.85182,-87.745336),("kostner","Kostner",41.853751,-87.733258),
 ("pulaski-pink","Pulaski",41.853732,-87.724311),("central-park","Central Park",41.853839,-87.714842),("kedzie-pink","Kedzie",41.853964,-87.705408),
 ("california-pink","California",41.854109,-87.694774),("western-pink","Western",41.854225,-87.685129),("damen-pink","Damen",41.854517,-87.675975),
 ("18th","18th",41.857908,-87.669147),("polk","Polk",41.871551,-87.66953),
 # Purple (Howard, Wilson and the Express's stops south of it are the Red and Brown Lines')
 ("linden","Linden",42.073153,-87.69073),("central-purple","Central",42.063987,-87.685617),("noyes","Noyes",42.058282,-87.683337),
 ("foster","Foster",42.05416,-87.68356),("davis","Davis",42.04771,-87.683543),("dempster","Dempster",42.041655,-87.681602),
 ("main","Main",42.033456,-87.679538),("south-boulevard","South Boulevard",42.027612,-87.678329),
 # Yellow (to Howard)
 ("dempster-skokie","Dempster-Skokie",42.038951,-87.751919),("oakton-skokie","Oakton-Skokie",42.02624348,-87.74722084),
]: st(key,name,lat,lon)

# Loop corners and bends: geometry only (lat, lon)
LAKE_WELLS=(41.8857,-87.6339); LAKE_WABASH=(41.8857,-87.6261); VANBUREN_WABASH=(41.8768,-87.6261); VANBUREN_WELLS=(41.8768,-87.6337)
# Where the Pink Line's Paulina connector meets the Lake Street elevated, on the Green Line's track west of Ashland
PAULINA_LAKE=(41.8852,-87.6695)
# A station's position as geometry only: a line running through without stopping (the Purple Express on the Red Line's
# track between Howard and Belmont)
def via(key): return S[key][1:]
# Orange, Pink and Purple trains go round the Loop clockwise (Lake, Wabash, Van Buren, Wells) and Brown ones
# counterclockwise, as the CTA runs them; each line's file path ends at its last Loop station
LINES = {
 "red": ("Red Line","#c60c30",["howard","jarvis","morse","loyola","granville","thorndale","bryn-mawr","berwyn","argyle","lawrence","wilson","sheridan",
   "addison-red","belmont","fullerton","north-clybourn",(41.9060,-87.6420),"clark-division",(41.9010,-87.6285),"chicago-red","grand-red","lake","monroe-red","jackson-red",
   "harrison","roosevelt",(41.8600,-87.6285),"cermak-chinatown","sox-35th","47th-red","garfield-red","63rd",(41.7745,-87.6290),"69th","79th","87th","95th-dan-ryan"]),
 "blue": ("Blue Line","#00a1de",["ohare",(41.9800,-87.8850),"rosemont","cumberland","harlem-ohare",(41.9760,-87.7850),"jefferson-park","montrose-blue","irving-park-blue","addison-blue",
   "belmont-blue","logan-square","california-blue","western-blue-ohare","damen-blue","division","chicago-blue","grand-blue",(41.8858,-87.6400),
   "clark-lake",(41.8857,-87.6295),"washington","monroe-blue","jackson-blue",(41.8755,-87.6293),"lasalle","clinton-blue","uic-halsted","racine",
   "illinois-medical-district","western-blue-forest-park","kedzie-homan","pulaski-blue","cicero-blue","austin-blue","oak-park-blue","harlem-forest-park","forest-park"]),
 "green": ("Green Line","#009b3a",["harlem-lake","oak-park-green","ridgeland","austin-green","central","laramie","cicero-green","pulaski-green","conservatory",
   "kedzie-green","california-green","ashland-green","morgan","clinton-green",LAKE_WELLS,"clark-lake","state-lake",LAKE_WABASH,"washington-wabash","adams-wabash",
   VANBUREN_WABASH,"roosevelt",(41.8600,-87.6263),"cermak-mccormick-place","35th-bronzeville-iit","indiana","43rd","47th-green","51st","garfield-green",
   (41.7810,-87.6190),(41.7792,-87.6300),"halsted-green","ashland-63rd"]),
 "brown": ("Brown Line","#62361b",["kimball","kedzie-brown","francisco","rockwell","western-brown","damen-brown",(41.9640,-87.6750),"montrose-brown","irving-park-brown",
   "addison-brown","paulina","southport",(41.9420,-87.6540),"belmont","wellington","diversey","fullerton","armitage","sedgwick",(41.9040,-87.6365),"chicago-brown",
   "merchandise-mart",LAKE_WELLS,"washington-wells","quincy",VANBUREN_WELLS,"lasalle-van-buren","harold-washington-library",VANBUREN_WABASH,"adams-wabash",
   "washington-wabash",LAKE_WABASH,"state-lake","clark-lake"]),
 "orange": ("Orange Line","#f9461c",["midway","pulaski-orange","kedzie-orange","western-orange",(41.8120,-87.6830),"35th-archer","ashland-orange","halsted-orange",
   (41.8560,-87.6290),"roosevelt",VANBUREN_WABASH,"harold-washington-library","lasalle-van-buren",VANBUREN_WELLS,"quincy","washington-wells",LAKE_WELLS,
   "clark-lake","state-lake",LAKE_WABASH,"washington-wabash","adams-wabash"]),
 "pink": ("Pink Line","#e27ea6",["54th-cermak","cicero-pink","kostner","pulaski-pink","central-park","kedzie-pink","california-pink","western-pink",
   "damen-pink",(41.8547,-87.6700),"18th","polk",PAULINA_LAKE,"ashland-green","morgan","clinton-green",LAKE_WELLS,"clark-lake","state-lake",LAKE_WABASH,
   "washington-wabash","adams-wabash",VANBUREN_WABASH,"harold-washington-library","lasalle-van-buren",VANBUREN_WELLS,"quincy","washington-wells"]),
 # One line with the Express: every Purple train runs through to the Loop, as in the weekday rush hours
 "purple": ("Purple Line","#522398",["linden","central-purple","noyes","foster","davis","dempster","main","south-boulevard","howard",
   via("jarvis"),via("morse"),via("loyola"),via("granville"),via("thorndale"),via("bryn-mawr"),via("berwyn"),via("argyle"),via("lawrence"),
   "wilson",via("sheridan"),via("addison-red"),"belmont","wellington","diversey","fullerton","armitage","sedgwick",(41.9040,-87.6365),"chicago-brown",
   "merchandise-mart",LAKE_WELLS,"clark-lake","state-lake",LAKE_WABASH,"washington-wabash","adams-wabash",VANBUREN_WABASH,"harold-washington-library",
   "lasalle-van-buren",VANBUREN_WELLS,"quincy","washington-wells"]),
 # South from Dempster, east past Oakton, through Evanston and into Howard yard from the west
 "yellow": ("Yellow Line","#f9e300",["dempster-skokie","oakton-skokie",(42.0240,-87.7420),(42.0222,-87.6800),"howard"]),
}
served = {}
feats = []
for lid,(name,color,seq) in LINES.items():
    coords=[]
    for item in seq:
        if isinstance(item,str):
            n,lat,lon = S[item]; served.setdefault(item,[]).append(lid)
        else:
            lat,lon = item
        coords.append([round(lon,6),round(lat,6)])
    feats.append({"type":"Feature","properties":{"line":lid,"name":name,"color":color},"geometry":{"type":"LineString","coordinates":coords}})
for key,(n,lat,lon) in S.items():
    assert key in served, key
    feats.append({"type":"Feature","properties":{"station_id":key,"name":n,"lines":served[key]},"geometry":{"type":"Point","coordinates":[round(lon,6),round(lat,6)]}})
def rect(lon0,lat0,lon1,lat1): return [[[lon0,lat0],[lon1,lat0],[lon1,lat1],[lon0,lat1],[lon0,lat0]]]
zones=[("north","North Side",rect(-87.92,41.90,-87.58,42.09)),("loop","The Loop",rect(-87.645,41.865,-87.58,41.90)),
       ("west","West Side",rect(-87.92,41.84,-87.645,41.90)),
       ("south","South Side",[[[-87.92,41.70],[-87.58,41.70],[-87.58,41.865],[-87.645,41.865],[-87.645,41.84],[-87.92,41.84],[-87.92,41.70]]])]
for zid,zn,poly in zones:
    feats.append({"type":"Feature","properties":{"zone":zid,"name":zn},"geometry":{"type":"Polygon","coordinates":poly}})
fc={"type":"FeatureCollection","name":"Chicago 'L' (demo)","features":feats}
out=json.dumps(fc,ensure_ascii=False,separators=(",",":"))
out=out.replace('{"type":"Feature"','\n{"type":"Feature"')
open(__import__("os").path.join(__import__("os").path.dirname(__file__),"network.geojson"),"w").write(out+"\n")
for lid,(name,color,seq) in LINES.items(): print(lid, sum(1 for i in seq if isinstance(i,str)))
print("stations", len(S))
